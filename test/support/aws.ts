import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { type AwsCall, type AwsClientFactory, createAwsClientFactory } from '../../src/adapters/aws/clients.js';
import { type Moto, startMoto } from '../../src/devstack/moto.js';
import { createSelfSignedCert } from '../../src/devstack/tlscert.js';
import type { Clock } from '../../src/ports/clock.js';
import type { Logger } from '../../src/ports/logger.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { evaluate, type IamRequest, type Policy, requestsFor } from './iam.js';

/** A clock whose sleeps return at once and move time forward: tests never really wait. */
export interface FakeClock extends Clock {
  readonly sleeps: number[];
  advance(ms: number): void;
}

export function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): FakeClock {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(t),
    advance(ms) {
      t += ms;
    },
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      t += ms;
      // Yield, so other tasks interleave as they would during a real wait.
      await new Promise<void>((r) => setImmediate(r));
    },
  };
}

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

export function captureLogger(lines: LogLine[] = []): Logger & { lines: LogLine[]; text(): string } {
  const make = (base: Record<string, unknown>): Logger & { lines: LogLine[]; text(): string } => {
    const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      lines.push({ level, message, ...(fields || Object.keys(base).length ? { fields: { ...base, ...fields } } : {}) });
    };
    return {
      lines,
      text: () => lines.map((l) => `${l.level} ${l.message} ${l.fields ? JSON.stringify(l.fields) : ''}`).join('\n'),
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({});
}

export interface MotoHandle {
  moto: Moto;
  /** Every AWS call the adapters made through `clients` in this file. */
  calls: AwsCall[];
  /** A factory whose clients record their calls into `calls`. */
  clients: AwsClientFactory;
}

/**
 * One moto per test file (own state, so zone discovery sees only this file's zones), with the SDK
 * pointed at it the standard way: AWS_ENDPOINT_URL and dummy credentials in the environment.
 * When the file ends, every recorded call must be allowed by workflows-examples/iam-policy.json.
 */
export function useMoto(options: { checkPolicy?: boolean } = {}): MotoHandle {
  const handle = { calls: [] as AwsCall[] } as MotoHandle;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    handle.moto = await startMoto();
    for (const [k, v] of Object.entries(handle.moto.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    handle.clients = createAwsClientFactory({ onCall: (c) => handle.calls.push(c) });
  }, 60_000);
  afterAll(async () => {
    await handle.moto?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (options.checkPolicy !== false) assertAllowedByPolicy(handle.calls);
  });
  return handle;
}

export function loadPolicy(): Policy {
  return JSON.parse(
    readFileSync(new URL('../../workflows-examples/iam-policy.json', import.meta.url), 'utf8'),
  ) as Policy;
}

/** Throws naming every call the example policy would deny. */
export function assertAllowedByPolicy(calls: AwsCall[], policy: Policy = loadPolicy()): IamRequest[] {
  const requests = calls.flatMap((c) => requestsFor(c));
  const denied = requests.filter((r) => evaluate(policy, r) !== 'allow');
  if (denied.length > 0) {
    throw new Error(
      `workflows-examples/iam-policy.json denies:\n${denied
        .map((d) => `  ${d.action} on ${d.resource} ${JSON.stringify(d.context)}`)
        .join('\n')}`,
    );
  }
  return requests;
}

/** A certkeeper/v1 record with a real (self-signed) certificate and key, as ACM wants to parse it. */
export async function makeCertificate(
  id: string,
  domains: string[] = ['example.com', '*.example.com'],
  overrides: Partial<StoredCertificate> = {},
): Promise<StoredCertificate> {
  const { certPem, keyPem } = await createSelfSignedCert(domains, { validityDays: 30 });
  const { certPem: caPem } = await createSelfSignedCert(['certkeeper test intermediate'], { validityDays: 30 });
  const now = Date.now();
  return {
    format: 'certkeeper/v1',
    id,
    domains,
    certificate: certPem,
    chain: caPem,
    fullchain: certPem + caPem,
    privateKey: keyPem,
    keyType: 'ec-p256',
    serialNumber: Math.floor(Math.random() * 2 ** 48).toString(16),
    notBefore: new Date(now - 3_600_000).toISOString(),
    notAfter: new Date(now + 30 * 86_400_000).toISOString(),
    issuer: 'CN=certkeeper test',
    issuedAt: new Date(now).toISOString(),
    issuedBy: { via: 'cli', runId: 'test:1' },
    ...overrides,
  };
}

/** The body of every PEM private key in `text`, to assert that no log line or error carries one. */
export function keyMaterial(cert: StoredCertificate): string[] {
  return cert.privateKey
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .filter((l) => l.length >= 16);
}
