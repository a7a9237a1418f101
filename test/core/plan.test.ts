import { describe, expect, it } from 'vitest';
import type { CertificateInfo } from '../../src/core/certinfo.js';
import { parseRenewBefore } from '../../src/core/config/parse.js';
import { type CurrentState, computeHealth, daysLeft, decide, renewalTime } from '../../src/core/plan.js';

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
