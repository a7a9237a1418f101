import { describe, expect, it } from 'vitest';
import { decideAccount, decideDirectory } from '../../../src/core/doctor/acme-checks.js';
import { decideAlias, decideDelegation, decideZone } from '../../../src/core/doctor/dns.js';
import { decideLimits, registeredDomain } from '../../../src/core/doctor/limits.js';
import {
  type CheckResult,
  combine,
  configFailure,
  doctorFailed,
  forDisplay,
  pass,
  warn,
} from '../../../src/core/doctor/report.js';
import { decideEndpoint, decideExpiry, decideStore, type StoreFacts } from '../../../src/core/doctor/store-checks.js';
import { AcmeError, ConfigError } from '../../../src/ports/errors.js';
import type { EndpointState } from '../../../src/ports/hooks.js';
import { makeCertificate } from '../../support/fixtures.js';

/** Each check's decision over facts, for the paths the real components are not asked to produce. */

const ok = <T>(value: T) => ({ ok: true as const, value });
const R53 = ['ns-1.awsdns-01.org', 'ns-2.awsdns-02.net'];

describe('dns.zone', () => {
  it('pass names the zone; a provider without describeZone is skipped; no zone fails; an unreachable provider warns', () => {
    const zone = { name: 'example.com', id: 'Z1', nameServers: R53 };
    expect(decideZone('route53', [{ recordName: '_acme-challenge.example.com', ok: true, zone }])).toEqual({
      status: 'pass',
      message: 'route53 zone example.com (Z1) holds _acme-challenge.example.com',
    });
    expect(decideZone('challtestsrv', 'unsupported').status).toBe('skip');
    const none = decideZone('route53', [
      {
        recordName: '_acme-challenge.nozone.test',
        ok: false,
        error: { class: 'dns-provider', message: 'route53: no public hosted zone found for x', hint: 'create it' },
      },
    ]);
    expect(none).toEqual({ status: 'fail', message: 'route53: no public hosted zone found for x', hint: 'create it' });
    expect(
      decideZone('route53', [
        { recordName: 'x', ok: false, error: { class: 'network', message: 'ECONNRESET', hint: 'retry' } },
      ]).status,
    ).toBe('warn');
  });
});

describe('dns.delegation', () => {
  const zone = { name: 'example.com', nameServers: R53 };
  it("the provider's name servers pass; others fail; none fails; a mix warns; a failing resolver warns", () => {
    expect(decideDelegation('route53', zone, [{ resolver: undefined, ns: ok([...R53].reverse()) }]).status).toBe(
      'pass',
    );
    const elsewhere = decideDelegation('route53', zone, [
      { resolver: '10.0.0.2:53', ns: ok(['ns1.registrar.example']) },
    ]);
    expect(elsewhere.status).toBe('fail');
    expect(elsewhere.message).toContain('delegated to ns1.registrar.example (as 10.0.0.2:53 sees it)');
    expect(elsewhere.hint).toContain(`delegate example.com to ${R53.join(', ')}`);
    expect(decideDelegation('route53', zone, [{ resolver: undefined, ns: ok([]) }]).message).toContain('not delegated');
    expect(
      decideDelegation('route53', zone, [{ resolver: undefined, ns: ok([R53[0] as string, 'ns.other.net']) }]).status,
    ).toBe('warn');
    const down = decideDelegation('route53', zone, [
      { resolver: 'x:53', ns: { ok: false, error: 'queryNs ETIMEOUT' } },
    ]);
    expect(down.status).toBe('warn');
    expect(down.message).toContain('could not check');
    // Two resolvers that disagree: the worse view decides.
    expect(
      decideDelegation('route53', zone, [
        { resolver: 'a:53', ns: ok(R53) },
        { resolver: 'b:53', ns: ok(['ns.old-provider.net']) },
      ]).status,
    ).toBe('fail');
    expect(decideDelegation('route53', { name: 'internal.example', nameServers: [] }, []).status).toBe('skip');
  });
});

describe('dns.alias', () => {
  const from = '_acme-challenge.www.example.com';
  const to = '_acme-challenge.www.example.com.validation.example.net';
  it('with challengeAlias a CNAME (or chain) to the alias passes; none or elsewhere fails', () => {
    expect(decideAlias({ resolver: undefined, from, to, chain: ok([to]) }).status).toBe('pass');
    expect(decideAlias({ resolver: undefined, from, to, chain: ok(['hop.example.org', to]) }).status).toBe('pass');
    const missing = decideAlias({ resolver: undefined, from, to, chain: ok([]) });
    expect(missing).toMatchObject({ status: 'fail', hint: `add the record ${from}. CNAME ${to}.` });
    expect(decideAlias({ resolver: undefined, from, to, chain: ok(['stale.example.org']) }).message).toContain(
      'leads to stale.example.org',
    );
  });
  it('without challengeAlias a stray CNAME fails, naming the alias it looks like', () => {
    expect(decideAlias({ resolver: undefined, from, chain: ok([]) }).status).toBe('pass');
    const stray = decideAlias({ resolver: undefined, from, chain: ok([to]) });
    expect(stray.status).toBe('fail');
    expect(stray.hint).toContain('set dns.challengeAlias: validation.example.net');
    expect(decideAlias({ resolver: undefined, from, chain: { ok: false, error: 'EREFUSED' } }).status).toBe('warn');
  });
});

describe('acme.directory', () => {
  const needs = { url: 'https://ca.example/dir', ari: true, profiles: [], eab: false, accountStored: false };
  const dir = { newOrder: 'https://ca.example/new-order', externalAccountRequired: false };
  it('passes when everything relied on is offered', () => {
    const v = decideDirectory(
      { ok: true, directory: { ...dir, renewalInfo: 'https://ca.example/ari', profiles: { tlsserver: 'x' } } },
      { ...needs, profiles: ['tlsserver'] },
    );
    expect(v).toEqual({
      status: 'pass',
      message: 'https://ca.example/dir answers over verified TLS, profile tlsserver, renewalInfo (ARI)',
    });
  });
  it('EAB required: fails without acme.eab unless an account is stored already', () => {
    const eab = { ok: true as const, directory: { ...dir, renewalInfo: 'r', externalAccountRequired: true } };
    expect(decideDirectory(eab, needs)).toMatchObject({ status: 'fail' });
    expect(decideDirectory(eab, needs).hint).toContain('acme.eab');
    expect(decideDirectory(eab, { ...needs, eab: true }).status).toBe('pass');
    expect(decideDirectory(eab, { ...needs, accountStored: true }).status).toBe('pass');
  });
  it('an unknown profile fails; a CA listing none warns; no renewalInfo with renewal.ari warns', () => {
    const listed = { ok: true as const, directory: { ...dir, renewalInfo: 'r', profiles: { classic: 'c' } } };
    const v = decideDirectory(listed, { ...needs, profiles: ['shortlived'] });
    expect(v.status).toBe('fail');
    expect(v.message).toContain('offers no profile "shortlived" (it offers classic)');
    expect(
      decideDirectory({ ok: true, directory: { ...dir, renewalInfo: 'r' } }, { ...needs, profiles: ['x'] }).status,
    ).toBe('warn');
    expect(decideDirectory({ ok: true, directory: dir }, needs).status).toBe('warn');
    expect(decideDirectory({ ok: true, directory: dir }, { ...needs, ari: false }).status).toBe('pass');
  });
  it('an untrusted TLS certificate fails with a caBundle hint', () => {
    const v = decideDirectory(
      {
        ok: false,
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
        error: { class: 'network', message: 'acme: cannot read the directory: self-signed certificate in chain' },
      },
      needs,
    );
    expect(v.status).toBe('fail');
    expect(v.message).toContain('does not answer over verified TLS');
    expect(v.hint).toContain('acme.caBundle');
  });
});

describe('acme.account', () => {
  const account = { accountUrl: 'https://ca.example/acct/1' };
  const refused = (type: string, status: number) =>
    new AcmeError('acme-rejected', 'acme: read account: Account has been deactivated', {
      problemType: `urn:ietf:params:acme:error:${type}`,
      status,
    });
  it('valid passes, none stored warns, deactivated fails, a forgotten account warns', () => {
    const url = 'https://ca.example/dir';
    expect(
      decideAccount({ kind: 'stored', ref: 'r', account, status: { ok: true, status: 'valid' } }, url).status,
    ).toBe('pass');
    expect(decideAccount({ kind: 'none', ref: 'r' }, url).message).toContain('a run registers one');
    expect(
      decideAccount({ kind: 'stored', ref: 'r', account, status: { ok: true, status: 'deactivated' } }, url).status,
    ).toBe('fail');
    const gone = decideAccount(
      { kind: 'stored', ref: 'r', account, status: { ok: false, error: refused('unauthorized', 403) } },
      url,
    );
    expect(gone).toMatchObject({ status: 'fail' });
    expect(gone.message).toContain('Account has been deactivated');
    expect(
      decideAccount(
        { kind: 'stored', ref: 'r', account, status: { ok: false, error: refused('accountDoesNotExist', 400) } },
        url,
      ).status,
    ).toBe('warn');
    expect(
      decideAccount({ kind: 'store-error', ref: 'r', error: { class: 'store', message: 'denied' } }, url).status,
    ).toBe('fail');
    expect(decideAccount({ kind: 'unasked', ref: 'r', account }, url).status).toBe('skip');
  });
});

describe('store, expiry, endpoint', () => {
  const base = (over: Partial<StoreFacts> = {}): StoreFacts => ({
    type: 'file',
    ref: '/certs/web',
    read: { ok: true, result: { kind: 'missing' } },
    state: { ok: true, value: {} },
    lease: { kind: 'released' },
    ...over,
  });
  it('store: released lease passes; a lease that cannot be taken fails; a held or expired one warns', () => {
    expect(decideStore(base()).message).toContain('a lease was taken and released, nothing written');
    expect(decideStore(base({ lease: { kind: 'failed', error: { class: 'store', message: 'EACCES' } } })).status).toBe(
      'fail',
    );
    const holder = { owner: 'cli:host:1', expiresAt: '2030-01-01T00:00:00Z', records: [] };
    expect(decideStore(base({ lease: { kind: 'locked', holder } })).status).toBe('warn');
    expect(decideStore(base({ lease: { kind: 'stale', holder } })).message).toContain('expired lease');
    expect(
      decideStore(base({ lease: { kind: 'stuck', error: { class: 'store', message: 'x' }, expiresAt: 'T' } })).status,
    ).toBe('fail');
    expect(decideStore(base({ read: { ok: false, error: { class: 'store', message: 'AccessDenied' } } })).status).toBe(
      'fail',
    );
  });

  it('expiry: ok passes, missing/warning/critical warn, expired fails', async () => {
    const renewal = {
      warnBeforeMs: 14 * 86_400_000,
      criticalBeforeMs: 7 * 86_400_000,
      ari: true,
      failureBackoffMs: [],
    };
    const stored = await makeCertificate('web', ['example.com']);
    const found = { ok: true as const, result: { kind: 'found' as const, certificate: stored } };
    const state = { ok: true as const, value: {} };
    const now = new Date();
    expect(decideExpiry(found, state, renewal, now).status).toBe('pass');
    expect(decideExpiry(found, state, renewal, new Date(now.getTime() + 20 * 86_400_000)).status).toBe('warn');
    expect(decideExpiry(found, state, renewal, new Date(now.getTime() + 26 * 86_400_000)).message).toContain(
      'critical',
    );
    const failures = {
      count: 3,
      lastClass: 'dns-provider' as const,
      lastMessage: 'route53: AccessDenied',
      lastAttempt: now.toISOString(),
      nextAttempt: now.toISOString(),
    };
    const expired = decideExpiry(
      found,
      { ok: true, value: { failures } },
      renewal,
      new Date(now.getTime() + 40 * 86_400_000),
    );
    expect(expired.status).toBe('fail');
    expect(expired.hint).toContain('The last 3 attempt(s) failed (dns-provider: route53: AccessDenied)');
    expect(decideExpiry({ ok: true, result: { kind: 'missing' } }, state, renewal, now).status).toBe('warn');
  });

  it('endpoint: the stored serial passes; another is "stored but not deployed"; unreachable warns', () => {
    const inspected = (states: EndpointState[]) => decideEndpoint({ kind: 'inspected', serialNumber: 'abc', states });
    expect(inspected([{ endpoint: 'a:443', servedSerial: 'abc', serves: true }]).status).toBe('pass');
    const old = inspected([{ endpoint: 'a:443', servedSerial: 'def', serves: false }]);
    expect(old.status).toBe('warn');
    expect(old.message).toContain('stored but not deployed: a:443 serves serial def');
    expect(inspected([{ endpoint: 'a:443', serves: false, error: 'ECONNREFUSED' }]).message).toContain(
      'could not read',
    );
    expect(decideEndpoint({ kind: 'none' }).status).toBe('skip');
  });
});

describe('limits', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const LE = { certificates: 50, perMs: 7 * 86_400_000 };
  const certs = (n: number, renewal: boolean, domain = (i: number) => `s${i}.example.co.uk`) =>
    Array.from({ length: n }, (_, i) => ({ id: `c${i}`, domains: [domain(i)], dueAt: now, renewal }));

  it('registered domains come from the Public Suffix List, private section included', () => {
    expect(registeredDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(registeredDomain('*.www.example.com')).toBe('example.com');
    expect(registeredDomain('alice.github.io')).toBe('alice.github.io');
    expect(registeredDomain('x.y.doctor-test.internal')).toBe('doctor-test.internal');
  });

  it('over 50 new certificates per registered domain within 7 days fails; renewals alone are exempt; a mix warns', () => {
    expect(decideLimits({ now, certificates: certs(40, false), registeredDomainLimit: LE }).status).toBe('pass');
    const over = decideLimits({ now, certificates: certs(51, false), registeredDomainLimit: LE });
    expect(over.status).toBe('fail');
    expect(over.message).toContain('51 new certificates for example.co.uk are due within 7 d');
    expect(decideLimits({ now, certificates: certs(80, true), registeredDomainLimit: LE }).status).toBe('pass');
    const mix = decideLimits({
      now,
      certificates: [...certs(45, true), ...certs(10, false)],
      registeredDomainLimit: LE,
    });
    expect(mix.status).toBe('warn');
    // Each registered domain counts on its own, and certificates due later than the window do not count.
    const spread = certs(60, false, (i) => `s${i}.example${i % 2}.com`);
    expect(decideLimits({ now, certificates: spread, registeredDomainLimit: LE }).status).toBe('pass');
    const later = certs(60, false).map((c) => ({ ...c, dueAt: new Date(now.getTime() + 8 * 86_400_000) }));
    expect(decideLimits({ now, certificates: later, registeredDomainLimit: LE }).status).toBe('pass');
    expect(decideLimits({ now, certificates: certs(60, false) }).status).toBe('skip');
  });

  it('the order budget: due now beyond what is left warns with when it frees', () => {
    const budget = (used: number) => ({
      orders: 300,
      perMs: 3 * 3_600_000,
      used: { ok: true as const, used, freesAt: '2026-06-01T02:00:00.000Z' },
    });
    expect(decideLimits({ now, certificates: certs(20, true), budget: budget(100) }).status).toBe('pass');
    const v = decideLimits({ now, certificates: certs(20, true), budget: budget(290) });
    expect(v.status).toBe('warn');
    expect(v.message).toContain('10 of 300 per 3 h left: 10 will be deferred (it frees from 2026-06-01T02:00:00.000Z)');
    expect(
      decideLimits({
        now,
        certificates: certs(5, true),
        budget: { orders: 300, perMs: 1, used: { ok: 'unsupported' } },
      }).status,
    ).toBe('pass');
  });
});

describe('report', () => {
  const c = (certificate: string | null, status: CheckResult['status']): CheckResult => ({
    certificate,
    check: 'caa',
    status,
    message: `${certificate} ${status}`,
  });
  it('failures first, then warnings, passes, skips; exit status per fail-on', () => {
    const checks = [c('a', 'pass'), c('b', 'warn'), c('c', 'skip'), c('d', 'fail'), c('e', 'fail')];
    expect(forDisplay(checks).map((x) => x.certificate)).toEqual(['d', 'e', 'b', 'a', 'c']);
    expect(doctorFailed({ checks })).toBe(true);
    expect(doctorFailed({ checks: [c('b', 'warn')] })).toBe(false);
    expect(doctorFailed({ checks: [c('b', 'warn')] }, 'warning')).toBe(true);
    expect(doctorFailed({ checks }, 'never')).toBe(false);
  });
  it('combine keeps the worst and its hints; a config error is one failed config check', () => {
    expect(combine([pass('x'), warn('y', 'h1'), warn('z', 'h2')], () => 'all')).toEqual({
      status: 'warn',
      message: 'y; z',
      hint: 'h1; h2',
    });
    expect(combine([pass('x')], () => 'all')).toEqual({ status: 'pass', message: 'all' });
    const report = configFailure(new ConfigError([{ path: 'certificates[0].domains[0]', message: 'bad' }]), 'c.yml');
    expect(report.checks).toEqual([
      expect.objectContaining({
        certificate: null,
        check: 'config',
        status: 'fail',
        message: 'c.yml: certificates[0].domains[0]: bad',
      }),
    ]);
  });
});
