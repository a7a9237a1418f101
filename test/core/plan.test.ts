import { describe, expect, it } from 'vitest';
import type { CertificateInfo } from '../../src/core/certinfo.js';
import { parseRenewBefore } from '../../src/core/config/parse.js';
import {
  type CurrentState,
  computeHealth,
  daysLeft,
  decide,
  healthThresholds,
  renewalTime,
} from '../../src/core/plan.js';
import type { AriState } from '../../src/ports/store.js';

const DAY = 86_400_000;
const now = new Date('2026-11-22T12:00:00Z');
const renewal = (renewBefore: string) => ({
  renewBefore: parseRenewBefore(renewBefore),
  warnBeforeMs: 14 * DAY,
  criticalBeforeMs: 7 * DAY,
  ari: true,
  failureBackoffMs: [60_000],
});

function found(opts: {
  issuedDaysAgo: number;
  lifetimeDays: number;
  domains?: string[];
  keyType?: CertificateInfo['keyType'];
}): CurrentState {
  const notBefore = new Date(now.getTime() - opts.issuedDaysAgo * DAY);
  const notAfter = new Date(notBefore.getTime() + opts.lifetimeDays * DAY);
  const domains = opts.domains ?? ['example.com', '*.example.com'];
  const info: CertificateInfo = {
    serialNumber: '01',
    notBefore,
    notAfter,
    issuer: 'CN=test',
    subject: 'CN=example.com',
    dnsNames: domains,
    keyType: opts.keyType ?? 'ec-p256',
  };
  return { kind: 'found', info, domains, keyType: info.keyType };
}

const cert = { domains: ['example.com', '*.example.com'], keyType: 'ec-p256' as const };

describe('computeHealth', () => {
  const t = { warnBeforeMs: 14 * DAY, criticalBeforeMs: 7 * DAY };
  it.each([
    [undefined, 'missing'],
    [-1, 'expired'],
    [0, 'expired'],
    [3, 'critical'],
    [7, 'critical'],
    [7.5, 'warning'],
    [14, 'warning'],
    [14.01, 'ok'],
    [60, 'ok'],
  ] as const)('%s days left → %s', (days, health) => {
    const notAfter = days === undefined ? undefined : new Date(now.getTime() + days * DAY);
    expect(computeHealth(notAfter, now, t)).toBe(health);
  });
});

describe('decide', () => {
  it('renews a missing certificate', () => {
    const d = decide({ kind: 'missing' }, cert, renewal('33%'), now);
    expect(d).toMatchObject({ due: true, health: 'missing' });
    expect(d.reason).toMatch(/no certificate/);
  });

  it('renews an unreadable certificate and says why', () => {
    const d = decide({ kind: 'unreadable', reason: 'bad JSON' }, cert, renewal('33%'), now);
    expect(d.due).toBe(true);
    expect(d.reason).toContain('bad JSON');
  });

  it('share of lifetime: a 90-day certificate renews with 30 days left, not 31', () => {
    expect(decide(found({ issuedDaysAgo: 59, lifetimeDays: 90 }), cert, renewal('33%'), now).due).toBe(false);
    expect(decide(found({ issuedDaysAgo: 61, lifetimeDays: 90 }), cert, renewal('33%'), now).due).toBe(true);
  });

  it('share of lifetime scales to short-lived certificates (160 h)', () => {
    const lifetime = 160 / 24;
    const fresh = decide(found({ issuedDaysAgo: 1, lifetimeDays: lifetime }), cert, renewal('33%'), now);
    expect(fresh.due).toBe(false);
    const old = decide(found({ issuedDaysAgo: 5, lifetimeDays: lifetime }), cert, renewal('33%'), now);
    expect(old.due).toBe(true);
    // A fixed 30d threshold would renew a 6-day certificate on every run.
    expect(decide(found({ issuedDaysAgo: 0, lifetimeDays: lifetime }), cert, renewal('30d'), now).due).toBe(true);
  });

  it('days threshold', () => {
    expect(decide(found({ issuedDaysAgo: 61, lifetimeDays: 90 }), cert, renewal('30d'), now).due).toBe(true);
    const d = decide(found({ issuedDaysAgo: 50, lifetimeDays: 90 }), cert, renewal('39d'), now);
    expect(d.due).toBe(false);
    expect(d.renewAt?.toISOString()).toBe(new Date(now.getTime() + 1 * DAY).toISOString());
  });

  it('renews when domains changed, naming the difference', () => {
    const d = decide(
      found({ issuedDaysAgo: 1, lifetimeDays: 90, domains: ['example.com'] }),
      cert,
      renewal('33%'),
      now,
    );
    expect(d.due).toBe(true);
    expect(d.reason).toBe('domains changed (+*.example.com)');
  });

  it('domain order does not matter', () => {
    const reordered = { ...cert, domains: ['*.example.com', 'example.com'] };
    expect(decide(found({ issuedDaysAgo: 1, lifetimeDays: 90 }), reordered, renewal('33%'), now).due).toBe(false);
  });

  it('renews when the key type changed', () => {
    const d = decide(found({ issuedDaysAgo: 1, lifetimeDays: 90, keyType: 'rsa-2048' }), cert, renewal('33%'), now);
    expect(d.due).toBe(true);
    expect(d.reason).toContain('rsa-2048 → ec-p256');
  });

  it('force renews a fresh certificate', () => {
    expect(decide(found({ issuedDaysAgo: 1, lifetimeDays: 90 }), cert, renewal('33%'), now, true)).toMatchObject({
      due: true,
      reason: 'forced',
      health: 'ok',
    });
  });

  it('an expired certificate is due and expired', () => {
    expect(decide(found({ issuedDaysAgo: 100, lifetimeDays: 90 }), cert, renewal('1d'), now)).toMatchObject({
      due: true,
      health: 'expired',
    });
  });

  it('reports health even when not due', () => {
    const d = decide(found({ issuedDaysAgo: 80, lifetimeDays: 90 }), cert, renewal('5d'), now);
    expect(d).toMatchObject({ due: false, health: 'warning' });
  });
});

describe('helpers', () => {
  it('daysLeft rounds down to a tenth', () => {
    expect(daysLeft(new Date(now.getTime() + 1.26 * DAY), now)).toBe(1.2);
  });
  it('renewalTime for a share', () => {
    const info = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-04-01T00:00:00Z') };
    const at = renewalTime(info, renewal('50%'));
    expect(at.toISOString()).toBe('2026-02-15T00:00:00.000Z');
  });
});

describe('short lifetimes (PRODUCT §3)', () => {
  const defaults = { ...renewal('33%'), renewBefore: undefined };
  const HOUR = 3_600_000;

  it('a 160 h certificate renews at half its lifetime by default, a 90-day one at a third', () => {
    const info = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-01-07T16:00:00Z') };
    expect(renewalTime(info, defaults).toISOString()).toBe('2026-01-04T08:00:00.000Z');
    const long = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-04-01T00:00:00Z') };
    expect(renewalTime(long, defaults).getTime()).toBe(long.notAfter.getTime() - 0.33 * 90 * DAY);
    // Exactly 10 days is still short; a configured renewBefore always wins.
    const ten = { notBefore: long.notBefore, notAfter: new Date(long.notBefore.getTime() + 10 * DAY) };
    expect(renewalTime(ten, defaults).getTime()).toBe(long.notBefore.getTime() + 5 * DAY);
    expect(renewalTime(info, renewal('33%')).getTime()).toBe(info.notAfter.getTime() - 0.33 * 160 * HOUR);
  });

  it('is never warning or critical at birth: 14 d / 7 d scale to a third and a sixth of 160 h', () => {
    const lifetime = 160 / 24;
    const at = (issuedDaysAgo: number) =>
      decide(found({ issuedDaysAgo, lifetimeDays: lifetime }), cert, defaults, now).health;
    expect(at(0)).toBe('ok');
    // 80 h left: due (half), still ok; under 53.3 h left warning; under 26.7 h left critical.
    expect(decide(found({ issuedDaysAgo: 80 / 24, lifetimeDays: lifetime }), cert, defaults, now)).toMatchObject({
      due: true,
      health: 'ok',
    });
    expect(at((160 - 53) / 24)).toBe('warning');
    expect(at((160 - 26) / 24)).toBe('critical');
    expect(at((160 - 27) / 24)).toBe('warning');
  });

  it('scales only thresholds longer than the lifetime, keeping critical below warning', () => {
    const t = { warnBeforeMs: 14 * DAY, criticalBeforeMs: 7 * DAY };
    expect(healthThresholds(t, 90 * DAY)).toEqual(t);
    expect(healthThresholds(t, 160 * HOUR)).toEqual({
      warnBeforeMs: (160 * HOUR) / 3,
      criticalBeforeMs: (160 * HOUR) / 6,
    });
    // 7.5 days: criticalBefore (7 d) is shorter than the lifetime, but would exceed the scaled warnBefore.
    expect(healthThresholds(t, 7.5 * DAY)).toEqual({ warnBeforeMs: 2.5 * DAY, criticalBeforeMs: 1.25 * DAY });
    // A short critical threshold the user chose stays.
    expect(healthThresholds({ warnBeforeMs: 14 * DAY, criticalBeforeMs: HOUR }, 160 * HOUR).criticalBeforeMs).toBe(
      HOUR,
    );
    expect(computeHealth(new Date(now.getTime() + 3 * DAY), now, t)).toBe('critical');
    expect(computeHealth(new Date(now.getTime() + 3 * DAY), now, t, new Date(now.getTime() - 3.6 * DAY))).toBe('ok');
  });
});

describe('profiles', () => {
  it('a changed profile makes the certificate due; the same one does not', () => {
    const state = (profile?: string): CurrentState => {
      const f = found({ issuedDaysAgo: 1, lifetimeDays: 90 });
      return f.kind === 'found' && profile ? { ...f, profile } : f;
    };
    expect(decide(state('classic'), { ...cert, profile: 'classic' }, renewal('33%'), now).due).toBe(false);
    expect(decide(state(), cert, renewal('33%'), now).due).toBe(false);
    expect(decide(state('classic'), { ...cert, profile: 'tlsserver' }, renewal('33%'), now)).toMatchObject({
      due: true,
      reason: 'profile changed (classic → tlsserver)',
    });
    expect(decide(state(), { ...cert, profile: 'shortlived' }, renewal('33%'), now).reason).toBe(
      "profile changed (the CA's default → shortlived)",
    );
    expect(decide(state('tlsserver'), cert, renewal('33%'), now).due).toBe(true);
  });
});

describe('ARI: whichever comes first of the threshold and the window', () => {
  const certId = 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE';
  const iso = (days: number) => new Date(now.getTime() + days * DAY).toISOString();
  const state = (start: number, end: number, selected: number, explanationURL?: string): AriState => ({
    certId,
    start: iso(start),
    end: iso(end),
    selected: iso(selected),
    nextFetch: iso(0.25),
    ...(explanationURL ? { explanationURL } : {}),
  });
  const fresh = found({ issuedDaysAgo: 10, lifetimeDays: 90 });

  it('not due before the selected time; renews after whichever is earlier, and shows the window', () => {
    const d = decide(fresh, cert, renewal('33%'), now, { ari: { state: state(20, 22, 21), certId } });
    expect(d).toMatchObject({ due: false, renewalWindow: { start: iso(20), end: iso(22), selected: iso(21) } });
    expect(d.renewAt?.toISOString()).toBe(iso(21));
    // A window after the threshold: the threshold comes first.
    const late = decide(fresh, cert, renewal('33%'), now, { ari: { state: state(70, 75, 72), certId } });
    expect(late.renewAt?.getTime()).toBe(
      renewalTime((fresh as { info: CertificateInfo }).info, renewal('33%')).getTime(),
    );
  });

  it('due at the selected time, and at once when the window ended, naming the explanation', () => {
    const inside = decide(fresh, cert, renewal('33%'), now, { ari: { state: state(-1, 1, -0.5), certId } });
    expect(inside).toMatchObject({ due: true, byAri: true });
    expect(inside.reason).toContain("in the CA's renewal window");
    const url = 'https://ca.example/incident/42';
    const passed = decide(fresh, cert, renewal('33%'), now, { ari: { state: state(-3, -1, -2, url), certId } });
    expect(passed).toMatchObject({ due: true, byAri: true, renewalWindow: { explanationURL: url } });
    expect(passed.reason).toContain('asks for the certificate to be replaced now');
    expect(passed.reason).toContain(url);
  });

  it("ignores another certificate's window", () => {
    const d = decide(fresh, cert, renewal('33%'), now, { ari: { state: state(-3, -1, -2), certId: 'other.AQ' } });
    expect(d).toMatchObject({ due: false });
    expect(d.renewalWindow).toBeUndefined();
  });
});
