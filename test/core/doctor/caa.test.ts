import { describe, expect, it } from 'vitest';
import { type CaaContext, decideCaa, parseIssueValue } from '../../../src/core/doctor/caa.js';
import type { CaaRecord } from '../../../src/ports/dns.js';

/** The CAA decision of RFC 8659 (and the parameters of RFC 8657), over record sets as a resolver returns them. */

const ACCOUNT = 'https://acme-v02.api.letsencrypt.org/acme/acct/1234';
const ctx: CaaContext = { identities: { domains: ['letsencrypt.org'], source: 'directory' }, accountUrl: ACCOUNT };
const issue = (value: string, critical = false): CaaRecord => ({ critical, tag: 'issue', value });
const issuewild = (value: string): CaaRecord => ({ critical: false, tag: 'issuewild', value });
const at = (records: CaaRecord[], name = 'example.com') => ({ at: name, records });

describe('parseIssueValue (RFC 8659 §4.2)', () => {
  it('reads the issuer and the parameters, lowercasing the issuer and parameter tags', () => {
    expect(parseIssueValue('LetsEncrypt.org')).toEqual({ ok: true, issuer: 'letsencrypt.org', parameters: [] });
    expect(parseIssueValue(` letsencrypt.org ; accounturi=${ACCOUNT};  validationmethods = dns-01,http-01 `)).toEqual({
      ok: true,
      issuer: 'letsencrypt.org',
      parameters: [
        ['accounturi', ACCOUNT],
        ['validationmethods', 'dns-01,http-01'],
      ],
    });
    expect(parseIssueValue('letsencrypt.org; ValidationMethods=dns-01')).toMatchObject({
      parameters: [['validationmethods', 'dns-01']],
    });
  });

  it('an empty issuer names no CA; malformed values are reported, not guessed at', () => {
    expect(parseIssueValue(';')).toEqual({ ok: true, issuer: '', parameters: [] });
    expect(parseIssueValue('')).toEqual({ ok: true, issuer: '', parameters: [] });
    expect(parseIssueValue('letsencrypt.org; accounturi')).toMatchObject({ ok: false });
    expect(parseIssueValue('lets encrypt.org')).toMatchObject({ ok: false });
    expect(parseIssueValue('-bad.org')).toMatchObject({ ok: false });
    expect(parseIssueValue('letsencrypt.org; key=val;ue')).toMatchObject({ ok: false });
  });
});

describe('decideCaa', () => {
  it('no record set up to the TLD: any CA may issue', () => {
    expect(decideCaa('www.example.com', undefined, ctx)).toMatchObject({ status: 'pass' });
    expect(decideCaa('www.example.com', at([]), ctx)).toMatchObject({ status: 'pass' });
  });

  it('issue naming the CA passes; naming another CA fails with the record to add', () => {
    expect(decideCaa('www.example.com', at([issue('letsencrypt.org')]), ctx)).toEqual({
      status: 'pass',
      message: 'www.example.com: CAA issue at example.com allows letsencrypt.org',
    });
    const v = decideCaa('www.example.com', at([issue('digicert.com'), issue('sectigo.com')]), ctx);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('allows digicert.com, sectigo.com, not letsencrypt.org');
    expect(v.hint).toContain('example.com. CAA 0 issue "letsencrypt.org"');
    // Issuer names compare case-insensitively.
    expect(decideCaa('a.example.com', at([issue('LETSENCRYPT.ORG')]), ctx).status).toBe('pass');
  });

  it('issue ";" forbids every CA', () => {
    const v = decideCaa('example.com', at([issue(';')]), ctx);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('no CA (";")');
  });

  it('wildcards: issuewild wins when present, else issue applies; issuewild never restricts plain names', () => {
    const both = at([issue('letsencrypt.org'), issuewild(';')]);
    expect(decideCaa('example.com', both, ctx).status).toBe('pass');
    const wild = decideCaa('*.example.com', both, ctx);
    expect(wild.status).toBe('fail');
    expect(wild.message).toContain('CAA issuewild at example.com');
    expect(wild.message).toContain('wildcard issuance is forbidden');
    expect(wild.hint).toContain('CAA 0 issuewild "letsencrypt.org"');

    expect(decideCaa('*.example.com', at([issue('letsencrypt.org')]), ctx).status).toBe('pass');
    const fallback = decideCaa('*.example.com', at([issue('digicert.com')]), ctx);
    expect(fallback).toMatchObject({ status: 'fail' });
    expect(fallback.message).toContain('no issuewild, so issue applies');
    expect(decideCaa('*.example.com', at([issue(';'), issuewild('letsencrypt.org')]), ctx).status).toBe('pass');
    expect(decideCaa('example.com', at([issue(';'), issuewild('letsencrypt.org')]), ctx).status).toBe('fail');
  });

  it('records without issue (iodef only, issuewild only for a plain name) restrict nothing', () => {
    const iodef: CaaRecord = { critical: false, tag: 'iodef', value: 'mailto:security@example.com' };
    expect(decideCaa('example.com', at([iodef]), ctx).status).toBe('pass');
    expect(decideCaa('example.com', at([issuewild(';')]), ctx).status).toBe('pass');
  });

  it('an unknown property with the critical flag forbids issuance; a known critical one does not', () => {
    const v = decideCaa('example.com', at([issue('letsencrypt.org'), { critical: true, tag: 'tbs', value: 'x' }]), ctx);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('critical property the CA does not know (tbs)');
    expect(decideCaa('example.com', at([issue('letsencrypt.org', true)]), ctx).status).toBe('pass');
    // Without the flag, an unknown property is ignored.
    expect(
      decideCaa('example.com', at([issue('letsencrypt.org'), { critical: false, tag: 'tbs', value: 'x' }]), ctx).status,
    ).toBe('pass');
  });

  it('accounturi (RFC 8657 §3): must be this account; with none stored, a new one cannot match', () => {
    expect(decideCaa('example.com', at([issue(`letsencrypt.org; accounturi=${ACCOUNT}`)]), ctx).status).toBe('pass');
    const other = decideCaa('example.com', at([issue('letsencrypt.org; accounturi=https://ca.example/acct/9')]), ctx);
    expect(other.status).toBe('fail');
    expect(other.message).toContain(`only for account https://ca.example/acct/9 (accounturi), not ${ACCOUNT}`);
    const none = decideCaa('example.com', at([issue(`letsencrypt.org; accounturi=${ACCOUNT}`)]), {
      identities: ctx.identities,
    } as CaaContext);
    expect(none.status).toBe('fail');
    expect(none.message).toContain('no account is stored');
    // One record for another account and one for ours: ours authorizes.
    expect(
      decideCaa(
        'example.com',
        at([
          issue('letsencrypt.org; accounturi=https://ca.example/acct/9'),
          issue(`letsencrypt.org; accounturi=${ACCOUNT}`),
        ]),
        ctx,
      ).status,
    ).toBe('pass');
    expect(
      decideCaa('example.com', at([issue(`letsencrypt.org; accounturi=${ACCOUNT}; accounturi=${ACCOUNT}`)]), ctx)
        .status,
    ).toBe('fail');
  });

  it('validationmethods (RFC 8657 §4): must include dns-01', () => {
    expect(decideCaa('example.com', at([issue('letsencrypt.org; validationmethods=http-01,dns-01')]), ctx).status).toBe(
      'pass',
    );
    const v = decideCaa('example.com', at([issue('letsencrypt.org; validationmethods=http-01,tls-alpn-01')]), ctx);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('certkeeper validates with dns-01');
  });

  it('a CA that names no CAA identity: a restricting record set is a warning, not a guess', () => {
    const v = decideCaa('example.com', at([issue('letsencrypt.org')]), { accountUrl: ACCOUNT });
    expect(v.status).toBe('warn');
    expect(v.hint).toContain('acme.caaIdentities');
    expect(decideCaa('example.com', undefined, {}).status).toBe('pass');
  });

  it('any of several identities matches (a CA known under more than one CAA domain)', () => {
    const two: CaaContext = { identities: { domains: ['pki.goog', 'google.com'], source: 'config' } };
    expect(decideCaa('example.com', at([issue('google.com')]), two).status).toBe('pass');
  });
});
