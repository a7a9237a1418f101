import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateResult, RunReport } from '../../src/core/results.js';
import { localConfig, tempDir, uniqueZone } from '../support/certkeeper.js';
import { scanForSecrets } from '../support/secrets-guard.js';
import { childEnv, getStack } from '../support/stack.js';

/**
 * Two and five `certkeeper run` processes at once on one config of three certificates, on the
 * file store and on Secrets Manager (moto). Each certificate must be issued exactly once across
 * all of them; the others report `locked` or "renewed meanwhile by another run".
 *
 * The race is made certain rather than left to scheduling: the propagation resolver is a gate
 * that holds `_acme-challenge` queries until every process has said it is renewing every
 * certificate (or has exited). Until then no renewal can finish, so every process has read an
 * empty store and competes for every lease.
 */

const stack = getStack();
// The built CLI (the global setup builds dist/ from the sources): a tsx start would cost a second per process.
const CLI = join(process.cwd(), 'dist', 'cli', 'index.js');
const CERTS = 3;
const sm = new SecretsManagerClient({
  region: 'us-east-1',
  endpoint: stack.motoEndpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

interface Gate {
  address: string;
  open(): void;
  stop(): Promise<void>;
}

/** A DNS forwarder to challtestsrv that holds `_acme-challenge` queries until opened. */
async function startGate(upstream: string): Promise<Gate> {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.split(':').pop())];
  const server = createSocket('udp4');
  const pending = new Set<Socket>();
  let isOpen = false;
  const waiting: (() => void)[] = [];
  const forward = (msg: Buffer, rinfo: { port: number; address: string }) => {
    const up = createSocket('udp4');
    pending.add(up);
    const done = () => {
      clearTimeout(timer);
      if (pending.delete(up)) up.close();
    };
    const timer = setTimeout(done, 3000);
    up.on('message', (answer) => {
      server.send(answer, rinfo.port, rinfo.address);
      done();
    });
    up.on('error', done);
    up.send(msg, port, host);
  };
  server.on('message', (msg, rinfo) => {
    let name = '';
    try {
      name = dnsPacket.decode(msg).questions?.[0]?.name ?? '';
    } catch {
      return;
    }
    if (!isOpen && name.toLowerCase().startsWith('_acme-challenge.')) {
      waiting.push(() => forward(msg, rinfo));
      return;
    }
    forward(msg, rinfo);
  });
  await new Promise<void>((ok) => server.bind(0, '127.0.0.1', () => ok()));
  return {
    address: `127.0.0.1:${server.address().port}`,
    open() {
      isOpen = true;
      for (const release of waiting.splice(0)) release();
    },
    stop: async () => {
      for (const s of pending) s.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

let gate: Gate;
beforeAll(async () => {
  gate = await startGate(stack.dnsResolver);
});
afterAll(async () => {
  await gate?.stop();
});

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
  report?: RunReport;
}

/**
 * `runs` processes of `node --import tsx …/cli/index.ts run -c <config> --json` (not the tsx
 * wrapper, which forks). The gate opens once each has logged "renewing" for every certificate or
 * exited; bounded, so a broken run fails the assertions instead of hanging the test.
 */
async function race(configPath: string, runs: number, env: Record<string, string>): Promise<Child[]> {
  const children = Array.from({ length: runs }, () => {
    const child = spawn(process.execPath, [CLI, 'run', '-c', configPath, '--json'], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Child & { renewing: number; exited: boolean } = {
      code: null,
      stdout: '',
      stderr: '',
      renewing: 0,
      exited: false,
    };
    child.stdout.on('data', (d) => {
      out.stdout += d;
    });
    child.stderr.on('data', (d) => {
      out.stderr += d;
      out.renewing = (out.stderr.match(/: renewing \(/g) ?? []).length;
    });
    const done = new Promise<void>((resolve) =>
      child.on('close', (code) => {
        out.code = code;
        out.exited = true;
        resolve();
      }),
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    return { out, done: done.finally(() => clearTimeout(timer)) };
  });
  const deadline = Date.now() + 30_000;
  while (!children.every((c) => c.out.exited || c.out.renewing >= CERTS) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
  }
  gate.open();
  await Promise.all(children.map((c) => c.done));
  return children.map(({ out }) => {
    scanForSecrets('certkeeper run output', out.stdout + out.stderr);
    let report: RunReport | undefined;
    try {
      report = JSON.parse(out.stdout) as RunReport;
    } catch {
      report = undefined;
    }
    return { code: out.code, stdout: out.stdout, stderr: out.stderr, ...(report ? { report } : {}) };
  });
}

/** Every certificate renewed by exactly one run; every other run locked out or told it was renewed meanwhile. */
function expectIssuedOnce(children: Child[], ids: string[]): Map<string, CertificateResult> {
  const context = children.map((c, i) => `--- run ${i} (exit ${c.code})\n${c.stderr.slice(-3000)}`).join('\n');
  for (const c of children) {
    expect(c.code, context).toBe(0);
    expect(c.report?.results.map((r) => r.id).sort(), context).toEqual([...ids].sort());
  }
  const renewed = new Map<string, CertificateResult>();
  for (const id of ids) {
    const results = children.map((c) => c.report?.results.find((r) => r.id === id) as CertificateResult);
    const winners = results.filter((r) => r.status === 'renewed');
    expect(
      winners.map((w) => w.serialNumber),
      `${id}\n${context}`,
    ).toHaveLength(1);
    const winner = winners[0] as CertificateResult;
    renewed.set(id, winner);
    for (const r of results.filter((x) => x !== winner)) {
      if (r.status === 'locked') {
        expect(r.reason).toMatch(/^another run holds the lease \(cli:/);
      } else {
        expect(r.status, `${id}: ${r.status} ${r.reason}`).toBe('skipped');
        expect(r.reason).toBe(`renewed meanwhile by another run (serial ${winner.serialNumber})`);
        expect(r.serialNumber).toBe(winner.serialNumber);
      }
    }
  }
  return renewed;
}

/** Every process decided to renew every certificate before any renewal could finish (the gate). */
function expectAllCompeted(children: Child[]) {
  for (const c of children)
    expect((c.stderr.match(/: renewing \(no certificate stored yet\)/g) ?? []).length).toBe(CERTS);
}

async function setup(kind: 'file' | 'sm', runs: number) {
  const dir = await tempDir(`ck-race-${kind}-`);
  const storeDir = join(dir, 'store');
  const zones = Array.from({ length: CERTS }, () => uniqueZone(`race${kind}`));
  const certificates = zones.map((zone, i) => ({
    id: `race-${i}`,
    domains: [zone, `*.${zone}`],
    ...(kind === 'sm' ? { store: { type: 'aws-secrets-manager', secretId: `faults/race/${zone}` } } : {}),
  }));
  const configPath = join(dir, 'certkeeper.json');
  await writeFile(
    configPath,
    JSON.stringify(localConfig(stack, storeDir, certificates, { resolvers: [gate.address], concurrency: CERTS })),
  );
  return { runs, storeDir, configPath, ids: certificates.map((c) => c.id), zones };
}

/** A fresh gate per race: closed until that race's processes are all competing. */
async function freshGate() {
  await gate.stop();
  gate = await startGate(stack.dnsResolver);
}

describe('faults: concurrent runs issue each certificate once', () => {
  for (const runs of [2, 5]) {
    it(`${runs} processes on the file store`, async () => {
      await freshGate();
      const s = await setup('file', runs);
      const children = await race(s.configPath, runs, {});
      const renewed = expectIssuedOnce(children, s.ids);
      expectAllCompeted(children);
      for (const [id, r] of renewed) {
        const meta = JSON.parse(await readFile(join(s.storeDir, id, 'meta.json'), 'utf8'));
        expect(meta.serialNumber).toBe(r.serialNumber);
      }
      expect((await readdir(s.storeDir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
    }, 60_000);

    it(`${runs} processes on Secrets Manager`, async () => {
      await freshGate();
      const s = await setup('sm', runs);
      const children = await race(s.configPath, runs, stack.motoEnv);
      const renewed = expectIssuedOnce(children, s.ids);
      expectAllCompeted(children);
      for (const [id, r] of renewed) {
        const secretId = `faults/race/${s.zones[Number(id.split('-')[1])]}`;
        const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId }));
        expect(versions.Versions ?? []).toHaveLength(1);
        const current = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
        expect(JSON.parse(current.SecretString as string).serialNumber).toBe(r.serialNumber);
      }
      const left = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['faults/race/'] }] }));
      expect((left.SecretList ?? []).filter((x) => x.Name?.endsWith('.lock')).map((x) => x.Name)).toEqual([]);
    }, 60_000);
  }
});
