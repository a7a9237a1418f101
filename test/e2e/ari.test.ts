import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateResult, RunReport } from '../../src/core/results.js';
import { summaryTable } from '../../src/entrypoints/action/summary.js';
import { formatTable } from '../../src/entrypoints/cli/format.js';
import { type Clock, systemClock } from '../../src/ports/clock.js';
import type { AriState } from '../../src/ports/store.js';
import { type AriShim, type RenewalInfoAnswer, startAriShim } from '../support/ari-shim.js';
import { captureLog, localConfig, runLocal, tempDir, uniqueZone } from '../support/certkeeper.js';
import { startHttpServer, type TestServer } from '../support/hooks.js';
import { getStack } from '../support/stack.js';

/**
 * ARI (RFC 9773), `replaces` and profiles through the runner, against Pebble 2.4 behind the ARI
 * shim (test/support/ari-shim.ts): the runner asks the CA for each stored certificate's window,
 * keeps the time drawn in it in the file store, and renews when the window says so.
 */

const stack = getStack();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let shim: AriShim;
let receiver: TestServer;

beforeAll(async () => {
  shim = await startAriShim({
    upstream: stack,
    profiles: {
      classic: { description: 'the 90-day profile' },
      shortlived: { description: '160 hours, no CN', commonName: false, validityMs: 160 * HOUR },
    },
    defaultProfile: 'classic',
  });
  receiver = await startHttpServer((_req, res) => {
    res.writeHead(204);
    res.end();
  });
});
afterAll(async () => {
  await Promise.all([shim?.stop(), receiver?.close()]);
});

const viaShim = (dir: string, certificates: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  localConfig(
    { ...stack, acmeDirectory: shim.directoryUrl, caBundlePath: shim.caBundlePath },
    dir,
    certificates,
    extra,
  );

/** Real time moved ahead by `ms`: what a scheduled run that much later sees. */
const later = (ms: number): Clock => ({ now: () => new Date(Date.now() + ms), sleep: systemClock.sleep });

const only = (report: RunReport): CertificateResult => {
  expect(report.results).toHaveLength(1);
  return report.results[0] as CertificateResult;
};

async function storedPem(dir: string, id: string): Promise<string> {
  return readFile(join(dir, id, 'cert.pem'), 'utf8');
}

async function keptWindow(dir: string, id: string): Promise<AriState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, `${id}.ari.json`), 'utf8')) as AriState;
  } catch {
    return undefined;
  }
}

/** The job summary's table cells, as the summary renders them (HTML). */
const cells = (report: RunReport) =>
  summaryTable(report)
    .flat()
    .map((c) => (typeof c === 'string' ? c : c.data))
    .join('\n');

describe('ARI through the runner', () => {
  it('a window the CA moves into the past renews on the first run after its Retry-After, with replaces, naming the explanation', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('arimv');
    const raw = viaShim(dir, [
      { id: 'moved', domains: [zone], hooks: [{ type: 'webhook', url: `${receiver.url}/ari`, timeout: '5s' }] },
    ]);
    const first = only(await runLocal(raw));
    expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'renewed' });
    const certId = shim.certId(await storedPem(dir, 'moved'));

    // The CA's window, a month out: the run asks once, draws a time in it and keeps both.
    const start = Date.now() + 30 * DAY;
    shim.setRenewalInfo(certId, { window: { start: new Date(start), end: new Date(start + 2 * DAY) } });
    shim.resetLog();
    const quiet = only(await runLocal(raw));
    expect(quiet).toMatchObject({ status: 'skipped', health: 'ok' });
    const selected = quiet.renewalWindow?.selected as string;
    expect(Date.parse(selected)).toBeGreaterThanOrEqual(start);
    expect(Date.parse(selected)).toBeLessThan(start + 2 * DAY);
    expect(quiet.renewAt).toBe(selected);
    expect(quiet.reason).toContain("the time drawn in the CA's renewal window");
    expect(shim.count('renewal-info')).toBe(1);
    const kept = await keptWindow(dir, 'moved');
    expect(kept).toMatchObject({ certId, selected });
    expect(Date.parse(kept?.nextFetch ?? '') - Date.now()).toBeGreaterThan(5.9 * HOUR);

    // An incident: the CA moves the window into the past. Inside the Retry-After nothing asks it.
    const explanationURL = 'https://ca.example/incidents/2026-12-mis-issuance';
    const moved: RenewalInfoAnswer = {
      window: { start: new Date(Date.now() - 2 * DAY), end: new Date(Date.now() - DAY) },
      explanationURL,
      retryAfter: '3600',
    };
    shim.setRenewalInfo(certId, moved);
    const again = only(await runLocal(raw));
    expect(again).toMatchObject({ status: 'skipped', renewalWindow: { selected } });
    expect(shim.count('renewal-info')).toBe(1);
    expect(shim.count('new-order')).toBe(0);

    // After the Retry-After (6 h): plan asks, shows the moved window and why, and keeps it…
    const after = later(6 * HOUR + 60_000);
    const planned = await runLocal(raw, { clock: after, dryRun: true });
    const preview = only(planned);
    expect(preview).toMatchObject({ status: 'would-renew', renewalWindow: { explanationURL } });
    expect(preview.reason).toContain('asks for the certificate to be replaced now');
    expect(preview.reason).toContain(explanationURL);
    expect(shim.count('renewal-info')).toBe(2);
    expect(cells(planned)).toContain(`<a href="${explanationURL}">explanation</a>`);
    expect(formatTable(planned)).toContain(`CA renewal window ${preview.renewalWindow?.start}`);

    // …and the run that follows agrees without asking again, and renews with replaces.
    const renewed = only(await runLocal(raw, { clock: after }));
    expect(renewed, JSON.stringify(renewed.error)).toMatchObject({ status: 'renewed' });
    expect(renewed.reason).toContain(explanationURL);
    expect(renewed.renewalWindow?.explanationURL).toBe(explanationURL);
    expect(shim.count('renewal-info')).toBe(2);
    const orders = shim.orders.filter((o) => o.identifiers.includes(zone));
    expect(orders.map((o) => [o.replaces, o.status])).toEqual([[certId, 201]]);
    expect(shim.certificates.find((c) => c.certId === certId)?.replacedBy).toBe(
      shim.certId(await storedPem(dir, 'moved')),
    );
    // The event carries the window, its explanation included.
    const events = receiver.requests.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    const event = events.filter((e) => e.data.certificate === 'moved').at(-1);
    expect(event).toMatchObject({ type: 'certificate.renewed', data: { renewalWindow: { explanationURL } } });
    // The old certificate's window is gone with it; the new one's comes with the next run.
    expect(await keptWindow(dir, 'moved')).toBeUndefined();
    const next = only(await runLocal(raw, { clock: after }));
    expect(next).toMatchObject({ status: 'skipped' });
    expect((await keptWindow(dir, 'moved'))?.certId).toBe(shim.certId(await storedPem(dir, 'moved')));
  }, 30_000);

  it('the time drawn is kept while the window stays, and drawn again when the CA changes it', async () => {
    const dir = await tempDir();
    const raw = viaShim(dir, [{ id: 'kept', domains: [uniqueZone('arikp')] }]);
    expect(only(await runLocal(raw)).status).toBe('renewed');
    const certId = shim.certId(await storedPem(dir, 'kept'));
    const window = { start: new Date(Date.now() + 20 * DAY), end: new Date(Date.now() + 25 * DAY) };
    // Retry-After 1 s is clamped to an hour.
    shim.setRenewalInfo(certId, { window, retryAfter: '1' });
    const a = only(await runLocal(raw, { random: () => 0.25 }));
    expect(a.renewalWindow?.selected).toBe(new Date(window.start.getTime() + 0.25 * 5 * DAY).toISOString());
    const nextFetch = Date.parse((await keptWindow(dir, 'kept'))?.nextFetch ?? '');
    expect(nextFetch - Date.now()).toBeGreaterThan(0.99 * HOUR);
    expect(nextFetch - Date.now()).toBeLessThanOrEqual(HOUR);
    // Asked again after the hour: the same window keeps the same time, whatever the next draw says.
    shim.resetLog();
    const b = only(await runLocal(raw, { clock: later(HOUR + 1000), random: () => 0.9 }));
    expect(shim.count('renewal-info')).toBe(1);
    expect(b.renewalWindow?.selected).toBe(a.renewalWindow?.selected);
    // A new window gets a new draw.
    const moved = { start: new Date(Date.now() + 10 * DAY), end: new Date(Date.now() + 11 * DAY) };
    shim.setRenewalInfo(certId, { window: moved });
    const c = only(await runLocal(raw, { clock: later(2 * HOUR + 2000), random: () => 0.5 }));
    expect(c.renewalWindow).toEqual({
      start: moved.start.toISOString(),
      end: moved.end.toISOString(),
      selected: new Date(moved.start.getTime() + 0.5 * DAY).toISOString(),
    });
  }, 30_000);

  it('every renewalInfo failure falls back to the threshold, logged, and never blocks a renewal', async () => {
    const dir = await tempDir();
    const ids = ['f-timeout', 'f-500', 'f-malformed', 'f-inverted'];
    const raw = viaShim(
      dir,
      ids.map((id) => ({ id, domains: [uniqueZone('arif')] })),
    );
    const issued = await runLocal(raw);
    expect(issued.results.map((r) => r.status)).toEqual(ids.map(() => 'renewed'));
    const answers: RenewalInfoAnswer[] = [
      { fail: 'timeout' },
      { fail: 'status', status: 500 },
      { fail: 'malformed' },
      { window: { start: new Date(Date.now() + 2 * DAY), end: new Date(Date.now() + DAY) } },
    ];
    for (const [i, id] of ids.entries()) shim.setRenewalInfo(await storedPem(dir, id), answers[i]);
    const log = captureLog();
    shim.resetLog();
    const report = await runLocal({ ...raw, concurrency: 1 }, { log, ariTimeoutMs: 300 });
    const text = log.lines.join('\n');
    for (const r of report.results) {
      // Pebble's certificates last years: the threshold says not yet, and nothing else decides.
      expect(r, r.id).toMatchObject({ status: 'skipped', health: 'ok' });
      expect(r.renewalWindow, r.id).toBeUndefined();
      expect(r.reason).toMatch(/^not due: /);
      expect(text).toMatch(new RegExp(`${r.id}: ARI: .*; the threshold decides`));
    }
    expect(text).toMatch(/no answer within 0.3 s/);
    expect(text).toMatch(/HTTP 500/);
    expect(text).toMatch(/not JSON/);
    expect(text).toMatch(/ends .* before it starts/);
    expect(shim.count('renewal-info')).toBe(4);
    for (const id of ids) expect(await keptWindow(dir, id)).toBeUndefined();

    // Due by the threshold while ARI is down: renewed, without even asking.
    shim.resetLog();
    const forced = await runLocal({ ...raw, renewal: { renewBefore: '9999d' } }, { ariTimeoutMs: 300 });
    expect(forced.results.map((r) => r.status)).toEqual(ids.map(() => 'renewed'));
    expect(shim.count('renewal-info')).toBe(0);
  }, 30_000);

  it('a CA that does not answer renewalInfo is not asked again and again in one run', async () => {
    const dir = await tempDir();
    const ids = ['u-a', 'u-b', 'u-c', 'u-d'];
    const raw = viaShim(
      dir,
      ids.map((id) => ({ id, domains: [uniqueZone('ariu')] })),
    );
    expect((await runLocal(raw)).results.every((r) => r.status === 'renewed')).toBe(true);
    for (const id of ids) shim.setRenewalInfo(await storedPem(dir, id), { fail: 'timeout' });
    shim.resetLog();
    const log = captureLog();
    const report = await runLocal({ ...raw, concurrency: 1 }, { log, ariTimeoutMs: 200 });
    expect(report.results.map((r) => r.status)).toEqual(ids.map(() => 'skipped'));
    expect(shim.count('renewal-info')).toBe(2);
    expect(log.lines.join('\n')).toContain('not asking again in this run');
  }, 30_000);

  it('a CA refusing replaces does not stop the renewal; the refusal is in the log', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('arirf');
    const raw = viaShim(dir, [{ id: 'refused', domains: [zone] }]);
    expect(only(await runLocal(raw)).status).toBe('renewed');
    const certId = shim.certId(await storedPem(dir, 'refused'));
    for (const refusal of ['alreadyReplaced', 'unauthorized'] as const) {
      const current = shim.certId(await storedPem(dir, 'refused'));
      shim.refuseReplaces(refusal);
      shim.resetLog();
      const log = captureLog();
      const r = only(await runLocal(raw, { force: true, log }));
      expect(r, JSON.stringify(r.error)).toMatchObject({ status: 'renewed' });
      expect(shim.orders.map((o) => [o.replaces, o.problem ?? o.status])).toEqual([
        [current, refusal],
        [undefined, 201],
      ]);
      expect(log.lines.join('\n')).toMatch(new RegExp(`refused replaces=${current}.*${refusal}`, 's'));
    }
    // Accepted when nothing refuses it.
    shim.resetLog();
    const r = only(await runLocal(raw, { force: true }));
    expect(r.status).toBe('renewed');
    expect(shim.orders.map((o) => o.status)).toEqual([201]);
    expect(shim.orders[0]?.replaces).not.toBe(certId);
    expect(shim.orders[0]?.replaces).toMatch(/^[\w-]+\.[\w-]+$/);
  }, 30_000);

  it('a CA without ARI behaves as before: no renewalInfo asked, no replaces sent, the threshold decides', async () => {
    const plain = await startAriShim({ upstream: stack, ari: false });
    try {
      const dir = await tempDir();
      const zone = uniqueZone('arino');
      const raw = localConfig({ ...stack, acmeDirectory: plain.directoryUrl, caBundlePath: plain.caBundlePath }, dir, [
        { id: 'plain', domains: [zone] },
      ]);
      expect(only(await runLocal(raw)).status).toBe('renewed');
      const next = only(await runLocal(raw));
      expect(next).toMatchObject({ status: 'skipped', health: 'ok' });
      expect(next.renewalWindow).toBeUndefined();
      expect(next.reason).toMatch(/^not due: .* renews after \S+$/);
      expect(only(await runLocal(raw, { force: true })).status).toBe('renewed');
      expect(plain.count('renewal-info')).toBe(0);
      expect(plain.orders.map((o) => o.replaces)).toEqual([undefined, undefined]);
      expect(await keptWindow(dir, 'plain')).toBeUndefined();
      // And the shared Pebble itself, with no shim at all.
      const direct = localConfig(stack, await tempDir(), [{ id: 'pebble', domains: [uniqueZone('arinp')] }]);
      expect(only(await runLocal(direct)).status).toBe('renewed');
      expect(only(await runLocal(direct))).toMatchObject({ status: 'skipped', health: 'ok' });
    } finally {
      await plain.stop();
    }
  }, 30_000);

  it('renewal.ari: false: no renewalInfo asked, yet renewals still carry replaces', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('arioff');
    const raw = viaShim(dir, [{ id: 'off', domains: [zone] }], { renewal: { ari: false } });
    expect(only(await runLocal(raw)).status).toBe('renewed');
    const certId = shim.certId(await storedPem(dir, 'off'));
    shim.setRenewalInfo(certId, { window: { start: new Date(Date.now() - 2 * DAY), end: new Date(Date.now() - DAY) } });
    shim.resetLog();
    expect(only(await runLocal(raw)).status).toBe('skipped');
    expect(shim.count('renewal-info')).toBe(0);
    expect(only(await runLocal(raw, { force: true })).status).toBe('renewed');
    expect(shim.orders.filter((o) => o.identifiers.includes(zone)).map((o) => o.replaces)).toEqual([certId]);
  }, 30_000);
});

describe('profiles through the runner', () => {
  it('acme.profile: shortlived gives 160 h certificates, renewed at half their lifetime, never critical at birth', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('short');
    const raw = viaShim(dir, [{ id: 'short', domains: [zone] }], { acme: { profile: 'shortlived' } });
    const first = only(await runLocal(raw));
    expect(first, JSON.stringify(first.error)).toMatchObject({
      status: 'renewed',
      health: 'ok',
      profile: 'shortlived',
    });
    const leaf = new X509Certificate(await storedPem(dir, 'short'));
    const born = Date.parse(leaf.validFrom);
    expect(Date.parse(leaf.validTo) - born).toBeGreaterThan(160 * HOUR - 2000);
    expect(Date.parse(leaf.validTo) - born).toBeLessThanOrEqual(160 * HOUR);
    expect(leaf.subject).toBeUndefined();
    expect(shim.orders.filter((o) => o.identifiers.includes(zone)).map((o) => o.profile)).toEqual(['shortlived']);
    const meta = JSON.parse(await readFile(join(dir, 'short', 'meta.json'), 'utf8'));
    expect(meta.profile).toBe('shortlived');
    // Half of 160 h: renewed 80 h after issuance.
    const halfway = Date.parse(meta.notBefore) + 80 * HOUR;
    expect(Math.abs(Date.parse(first.renewAt as string) - halfway)).toBeLessThan(2000);

    // Fresh: ok, not critical under the default 14 d / 7 d thresholds (they scale to the lifetime).
    const fresh = only(await runLocal(raw));
    expect(fresh).toMatchObject({ status: 'skipped', health: 'ok', profile: 'shortlived' });
    expect(formatTable(await runLocal(raw, { dryRun: true }))).toMatch(/PROFILE[\s\S]*shortlived/);
    expect(cells(await runLocal(raw, { dryRun: true }))).toContain('profile <code>shortlived</code>');
    // Just before halfway: still ok and not due (the CA's window comes later than the threshold).
    const untilHalf = halfway - Date.now();
    expect(only(await runLocal(raw, { clock: later(untilHalf - 60_000) }))).toMatchObject({
      status: 'skipped',
      health: 'ok',
    });
    const due = only(await runLocal(raw, { clock: later(untilHalf + 60_000) }));
    expect(due, JSON.stringify(due.error)).toMatchObject({ status: 'renewed', health: 'ok' });
    expect(due.reason).toContain('renew before 50% of lifetime');
    // 40 h before the end of a certificate that did not renew: warning, 20 h before: critical.
    const end = Date.parse(leaf.validTo);
    const stale = viaShim(await tempDir(), [{ id: 'short', domains: [zone] }], { acme: { profile: 'shortlived' } });
    expect(only(await runLocal(stale)).status).toBe('renewed');
    const dryAt = (ms: number) => runLocal(stale, { dryRun: true, clock: later(ms) }).then(only);
    expect((await dryAt(end - Date.now() - 40 * HOUR)).health).toBe('warning');
    expect((await dryAt(end - Date.now() - 20 * HOUR)).health).toBe('critical');
  }, 30_000);

  it('a changed profile makes the certificate due; the new one is stored with it', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('chg');
    const cert = { id: 'chg', domains: [zone] };
    expect(only(await runLocal(viaShim(dir, [cert], { acme: { profile: 'classic' } }))).status).toBe('renewed');
    expect(only(await runLocal(viaShim(dir, [cert], { acme: { profile: 'classic' } }))).status).toBe('skipped');
    const changed = only(await runLocal(viaShim(dir, [{ ...cert, profile: 'shortlived' }])));
    expect(changed).toMatchObject({
      status: 'renewed',
      profile: 'shortlived',
      reason: 'profile changed (classic → shortlived)',
    });
    expect(JSON.parse(await readFile(join(dir, 'chg', 'meta.json'), 'utf8')).profile).toBe('shortlived');
  }, 30_000);

  it('an unknown profile fails with class config listing the CA profiles, before any order or account', async () => {
    const dir = await tempDir();
    const raw = viaShim(dir, [{ id: 'unknown', domains: [uniqueZone('unk')] }], { acme: { profile: 'longlived' } });
    shim.resetLog();
    for (let run = 0; run < 2; run++) {
      // Not counted as a failed attempt: the second run fails the same way rather than backing off.
      const r = only(await runLocal(raw));
      expect(r).toMatchObject({ status: 'failed', error: { class: 'config' } });
      expect(r.error?.message).toBe('acme: the CA offers no profile "longlived"; it offers classic, shortlived');
      expect(r.error?.hint).toContain('classic, shortlived');
    }
    expect(shim.count('new-order')).toBe(0);
    expect(shim.count('new-account')).toBe(0);
    expect(shim.count('nonce')).toBe(0);
  }, 30_000);
});
