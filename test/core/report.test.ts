import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretsManagerStore } from '../../src/adapters/store/aws-secrets-manager/store.js';
import { FileStore } from '../../src/adapters/store/file/store.js';
import { buildReport, type FleetReport } from '../../src/core/report.js';
import { main } from '../../src/entrypoints/cli/main.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import { systemClock } from '../../src/ports/clock.js';
import { StoreError } from '../../src/ports/errors.js';
import type { CertificateStore } from '../../src/ports/store.js';
import { tempDir } from '../support/certkeeper.js';
import { recordingLogger as captureLogger } from '../support/logger.js';
import { issueWithDaysLeft, memoryStore, storedFrom } from '../support/report-fixtures.js';
import { scanForSecrets } from '../support/secrets-guard.js';
import { getStack } from '../support/stack.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';

const DAY = 86_400_000;
let ca: TestCa;

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
  expect(scanForSecrets('certkeeper report output', stdout + stderr)).toEqual([]);
  return { code, stdout, stderr };
}

function raw(storeDefault: Record<string, unknown>, certificates: Record<string, unknown>[]) {
  return {
    version: 1,
    // Nothing listens there: the report must not need the CA or the DNS provider.
    acme: { directory: 'https://127.0.0.1:9/dir' },
    defaults: { dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' }, store: storeDefault },
    certificates,
  };
}

async function configFile(dir: string, obj: unknown): Promise<string> {
  const path = join(dir, 'certkeeper.json');
  await writeFile(path, JSON.stringify(obj));
  return path;
}

beforeAll(async () => {
  ca = await createTestCa();
});

describe('report over the file store (CLI)', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await tempDir('ck-report-');
    const storeDir = join(dir, 'store');
    const put = async (id: string, names: string[], left: number) => {
      await new FileStore(storeDir, id, systemClock).write(
        storedFrom(id, names, await issueWithDaysLeft(ca, names, left)),
      );
    };
    await put('fine', ['fine.example.com'], 60);
    await put('soon', ['soon.example.com'], 10);
    await put('late', ['late.example.com'], 3);
    await put('gone', ['gone.example.com'], -2);
    await put('grown', ['grown.example.com'], 50);
    // A directory another tool made, with a meta.json that is not certkeeper's.
    await mkdir(join(storeDir, 'broken'), { recursive: true });
    await writeFile(join(storeDir, 'broken', 'meta.json'), '{"format":"something-else"}');
    config = await configFile(
      dir,
      raw({ type: 'file', dir: storeDir }, [
        { id: 'fine', domains: ['fine.example.com'] },
        { id: 'soon', domains: ['soon.example.com'] },
        { id: 'late', domains: ['late.example.com'] },
        { id: 'gone', domains: ['gone.example.com'] },
        { id: 'grown', domains: ['grown.example.com', 'www.grown.example.com'] },
        { id: 'new', domains: ['new.example.com'] },
        { id: 'broken', domains: ['broken.example.com'] },
      ]),
    );
  });

  it('--json: health, days left, next renewal and window per certificate, most urgent first', async () => {
    const r = await cli(['report', '--json', '-c', config]);
    const report = JSON.parse(r.stdout) as FleetReport;
    expect(report.certificates.map((e) => [e.id, e.health])).toEqual([
      ['gone', 'expired'],
      ['late', 'critical'],
      ['broken', 'missing'],
      ['new', 'missing'],
      ['soon', 'warning'],
      ['grown', 'ok'],
      ['fine', 'ok'],
    ]);
    expect(report.summary).toEqual({
      total: 7,
      ok: 2,
      warning: 1,
      critical: 1,
      expired: 1,
      missing: 2,
      failing: 0,
      unreadable: 1,
    });
    const fine = report.certificates.find((e) => e.id === 'fine');
    const notAfter = Date.parse(fine?.notAfter ?? '');
    // renewBefore 33% of a 90-day lifetime: 29.7 days before expiry.
    expect(Date.parse(fine?.renewAt ?? '')).toBe(notAfter - 0.33 * 90 * DAY);
    expect(fine).toMatchObject({
      due: false,
      failing: false,
      daysLeft: expect.closeTo(60, 0),
      renewalWindow: { source: 'threshold', end: fine?.notAfter },
      store: { type: 'file', ref: join(dir, 'store', 'fine') },
    });
    expect(report.certificates.find((e) => e.id === 'grown')).toMatchObject({
      health: 'ok',
      due: true,
      reason: 'domains changed (+www.grown.example.com)',
    });
    expect(report.certificates.find((e) => e.id === 'broken')?.problem).toBe(
      'meta.json: unknown format "something-else"',
    );
    // A store that could not be read makes the report incomplete: exit 1, unless --fail-on never.
    expect(r.code).toBe(1);
    expect((await cli(['report', '-c', config, '--fail-on', 'never'])).code).toBe(0);
  });

  it('the table, --only and --fail-on warning', async () => {
    const table = await cli(['report', '-c', config, '--only', 'fine,soon']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^HEALTH\s+CERTIFICATE\s+DOMAINS\s+EXPIRES\s+DAYS\s+NEXT RENEWAL\s+WINDOW\s+LAST FAILURE$/,
    );
    expect(lines[1]).toMatch(/^warning\s+soon\s+soon\.example\.com\s+\d{4}-\d\d-\d\d\s+9\s+due now/);
    expect(lines[2]).toMatch(/^ok\s+fine\s+.* threshold$/);
    expect(lines[3]).toBe('2 certificate(s): 1 ok, 1 warning, 0 critical, 0 expired, 0 missing; 0 failing');
    expect((await cli(['report', '-c', config, '--only', 'fine', '--fail-on', 'warning'])).code).toBe(0);
    expect((await cli(['report', '-c', config, '--only', 'soon', '--fail-on', 'warning'])).code).toBe(1);
    expect((await cli(['report', '-c', config, '--only', 'nope'])).code).toBe(2);
    expect((await cli(['report', '-c', config, 'extra'])).code).toBe(2);
  });
});

describe('report with a renewal state record (ARI window, failures)', () => {
  it('takes the earlier of ARI and the threshold, shows the last failure, survives broken stores', async () => {
    const now = Date.now();
    const iso = (d: number) => new Date(now + d * DAY).toISOString();
    const names = (id: string) => [`${id}.example.com`];
    const config = parseConfig(
      raw(
        { type: 'file', dir: '/nonexistent' },
        ['ari-early', 'ari-late', 'ari-ended', 'failing', 'state-broken', 'store-down'].map((id) => ({
          id,
          domains: names(id),
        })),
      ),
      { env: {} },
    );
    const stores = new Map<string, CertificateStore>();
    const rec = async (id: string, left = 60) =>
      storedFrom(id, names(id), await issueWithDaysLeft(ca, names(id), left));
    stores.set(
      'ari-early',
      memoryStore('ari-early', await rec('ari-early'), { ari: { start: iso(5), end: iso(7), selected: iso(6) } }),
    );
    stores.set('ari-late', memoryStore('ari-late', await rec('ari-late'), { ari: { start: iso(40), end: iso(42) } }));
    stores.set(
      'ari-ended',
      memoryStore('ari-ended', await rec('ari-ended'), {
        ari: { start: iso(-3), end: iso(-1), explanationURL: 'https://ca.example/incident' },
      }),
    );
    stores.set(
      'failing',
      memoryStore('failing', await rec('failing'), {
        failures: {
          count: 3,
          lastClass: 'dns-provider',
          lastMessage: 'route53: Throttling',
          lastAttempt: iso(-0.1),
          nextAttempt: iso(0.05),
        },
      }),
    );
    const broken = memoryStore('state-broken', await rec('state-broken'));
    broken.readState = async () => {
      throw new StoreError('memory: state unreadable');
    };
    stores.set('state-broken', broken);
    const down = memoryStore('store-down');
    down.read = async () => {
      throw new StoreError('memory: connection refused', { hint: 'is it up?' });
    };
    stores.set('store-down', down);

    const logger = captureLogger();
    const report = await buildReport(
      config,
      {},
      { adapters: { store: async (c) => stores.get(c.id) as CertificateStore }, clock: systemClock, logger },
    );
    const by = Object.fromEntries(report.certificates.map((e) => [e.id, e]));
    expect(by['ari-early']).toMatchObject({
      renewAt: iso(6),
      due: false,
      renewalWindow: { source: 'ari', start: iso(5), end: iso(7), selected: iso(6) },
    });
    const threshold = Date.parse(by['ari-late']?.notAfter ?? '') - 0.33 * 90 * DAY;
    expect(Date.parse(by['ari-late']?.renewAt ?? '')).toBe(threshold);
    expect(by['ari-late']?.renewalWindow?.source).toBe('ari');
    expect(by['ari-ended']).toMatchObject({
      due: true,
      renewalWindow: { explanationURL: 'https://ca.example/incident' },
    });
    expect(by['ari-ended']?.reason).toMatch(/renewal window \(ARI\).*says renew now/);
    expect(by.failing).toMatchObject({
      failing: true,
      lastFailure: { class: 'dns-provider', attempts: 3, message: 'route53: Throttling', nextAttemptAt: iso(0.05) },
    });
    expect(by['state-broken']).toMatchObject({ health: 'ok', failing: false });
    expect(logger.text()).toContain('state-broken: cannot read its renewal state: memory: state unreadable');
    expect(by['store-down']).toMatchObject({ health: 'missing', problem: '[store] memory: connection refused' });
    expect(report.summary).toMatchObject({ total: 6, ok: 5, missing: 1, failing: 1, unreadable: 1 });
    // Within the healthy ones, the failing one comes first.
    expect(report.certificates.map((e) => e.id).slice(0, 2)).toEqual(['store-down', 'failing']);
  });
});

describe('report over Secrets Manager (moto)', () => {
  it('reads each secret once and names its version', async () => {
    const shared = getStack();
    for (const [k, v] of Object.entries(shared.motoEnv)) process.env[k] = v;
    const prefix = `report-test/${Math.random().toString(36).slice(2, 8)}`;
    const logger = captureLogger();
    for (const [id, left] of [
      ['sm-a', 45],
      ['sm-b', 5],
    ] as const) {
      const store = createSecretsManagerStore(
        id,
        { type: 'aws-secrets-manager', secretId: `${prefix}/${id}` },
        { logger, clock: systemClock },
      );
      await store.write(
        storedFrom(id, [`${id}.example.com`], await issueWithDaysLeft(ca, [`${id}.example.com`], left)),
      );
    }
    const dir = await tempDir('ck-report-sm-');
    const config = await configFile(
      dir,
      raw(
        { type: 'aws-secrets-manager' },
        ['sm-a', 'sm-b', 'sm-c'].map((id) => ({
          id,
          domains: [`${id}.example.com`],
          store: { type: 'aws-secrets-manager', secretId: `${prefix}/${id}` },
        })),
      ),
    );
    const r = await cli(['report', '--json', '-c', config]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as FleetReport;
    expect(report.certificates.map((e) => [e.id, e.health])).toEqual([
      ['sm-b', 'critical'],
      ['sm-c', 'missing'],
      ['sm-a', 'ok'],
    ]);
    expect(report.certificates[0]?.store).toMatchObject({
      type: 'aws-secrets-manager',
      ref: `${prefix}/sm-b`,
      version: expect.any(String),
    });
  });
});
