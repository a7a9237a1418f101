import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdapters } from '../../src/adapters/registry.js';
import { runHooks } from '../../src/core/hooks.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import type { HookConfig } from '../../src/ports/config.js';
import { ConfigError } from '../../src/ports/errors.js';
import type { DeployHook } from '../../src/ports/hooks.js';
import { fakeClock } from '../support/clock.js';
import { makeCert, sampleEvent, type TestCert } from '../support/fixtures.js';
import { buildHook, type HookDeps, startHttpServer, type TestServer } from '../support/hooks.js';
import { recordingLogger } from '../support/logger.js';

let cert: TestCert;
beforeAll(async () => {
  cert = await makeCert(['example.com', '*.example.com']);
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function server(handler: Parameters<typeof startHttpServer>[0]): Promise<TestServer> {
  const s = await startHttpServer(handler);
  cleanups.push(() => s.close());
  return s;
}

async function tlsServer(): Promise<number> {
  const s: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => socket.end());
  s.on('tlsClientError', () => {});
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => s.close(r)));
  return (s.address() as { port: number }).port;
}

function pems() {
  return {
    certificate: cert.certPem,
    chain: cert.certPem,
    fullchain: `${cert.certPem}${cert.certPem}`,
    privateKey: cert.keyPem,
  };
}

function deps(
  extra: Omit<Partial<HookDeps>, 'logger'> = {},
): HookDeps & { logger: ReturnType<typeof recordingLogger> } {
  return { clock: fakeClock(new Date()), env: { PATH: process.env.PATH }, ...extra, logger: recordingLogger() };
}

/** A hook that records what it got, for the runHooks routing tests. */
function probeHook(type: string, on: DeployHook['on'], behaviour: 'ok' | 'warning' | 'throw' = 'ok') {
  const calls: { event: string; hadPems: boolean }[] = [];
  const hook: DeployHook = {
    type,
    on,
    // As the command hook declares itself; the routing goes by this flag, never by the type name.
    ...(type === 'command' ? { receivesKeyMaterial: true } : {}),
    run: async (event, context) => {
      calls.push({ event: event.type, hadPems: context.pems !== undefined });
      if (behaviour === 'throw') throw new Error('boom');
      return behaviour === 'warning' ? { status: 'warning', message: 'meh' } : { status: 'ok' };
    },
  };
  return { hook, calls };
}

describe('hooks by entry point', () => {
  const lambdaConfig = () => ({
    version: 1,
    acme: { directory: 'letsencrypt-staging' },
    certificates: [
      {
        id: 'web',
        domains: ['example.com'],
        dns: { provider: 'route53' },
        hooks: [
          { type: 'webhook', url: 'https://deploy.example.com/h' },
          { type: 'command', run: 'systemctl reload nginx' },
        ],
      },
    ],
  });

  it('rejects a command hook in a Lambda config when the config loads, naming the hook', () => {
    let error: unknown;
    try {
      parseConfig(lambdaConfig(), { env: {}, entry: 'lambda' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        path: 'certificates[0].hooks[1]',
        message: 'hook "command" cannot run on lambda; it runs only from: cli, github-action',
      },
    ]);
    expect(parseConfig(lambdaConfig(), { env: {}, entry: 'cli' }).certificates[0]?.hooks).toHaveLength(2);
    expect(parseConfig(lambdaConfig(), { env: {}, entry: 'github-action' }).certificates[0]?.hooks).toHaveLength(2);
  });

  it('refuses to build a command hook on Lambda even from a config parsed without an entry point', async () => {
    const config = parseConfig(lambdaConfig(), { env: {} });
    const adapters = createAdapters(config, {
      clock: fakeClock(new Date()),
      logger: recordingLogger(),
      env: {},
      entry: 'lambda',
    });
    await expect(adapters.hooks(config.certificates[0]!)).rejects.toThrow(/cannot run on lambda/);
  });

  it('builds every hook type from its descriptor', async () => {
    const config = parseConfig(
      {
        ...lambdaConfig(),
        certificates: [
          {
            id: 'web',
            domains: ['example.com'],
            dns: { provider: 'route53' },
            hooks: [
              { type: 'webhook', url: 'https://deploy.example.com/h' },
              { type: 'github-dispatch', repository: 'acme/web' },
              { type: 'aws-eventbridge', on: ['renewed', 'failed'] },
              { type: 'verify-endpoint', endpoints: ['example.com:443'] },
            ],
          },
        ],
      },
      { env: {}, entry: 'lambda' },
    );
    const adapters = createAdapters(config, {
      clock: fakeClock(new Date()),
      logger: recordingLogger(),
      env: {},
      entry: 'lambda',
    });
    const hooks = await adapters.hooks(config.certificates[0]!);
    expect(hooks.map((h) => [h.type, h.on])).toEqual([
      ['webhook', ['renewed']],
      ['github-dispatch', ['renewed']],
      ['aws-eventbridge', ['renewed', 'failed']],
      ['verify-endpoint', ['renewed']],
    ]);
  });
});

describe('runHooks', () => {
  it('delivers each event kind only to the hooks that selected it', async () => {
    const renewed = probeHook('webhook', ['renewed']);
    const failed = probeHook('github-dispatch', ['failed']);
    const warning = probeHook('aws-eventbridge', ['warning', 'failed']);
    const hooks = [renewed.hook, failed.hook, warning.hook];
    const d = deps();

    expect(await runHooks(hooks, sampleEvent(), {}, d)).toEqual([{ type: 'webhook', status: 'ok' }]);
    expect(await runHooks(hooks, sampleEvent({}, 'certificate.renewal_failed'), {}, d)).toEqual([
      { type: 'github-dispatch', status: 'ok' },
      { type: 'aws-eventbridge', status: 'ok' },
    ]);
    expect(await runHooks(hooks, sampleEvent({}, 'certificate.expiring'), {}, d)).toEqual([
      { type: 'aws-eventbridge', status: 'ok' },
    ]);
    expect(renewed.calls.map((c) => c.event)).toEqual(['certificate.renewed']);
    expect(failed.calls.map((c) => c.event)).toEqual(['certificate.renewal_failed']);
    expect(warning.calls.map((c) => c.event)).toEqual(['certificate.renewal_failed', 'certificate.expiring']);
  });

  it('keeps going after a failing hook, in order, and hands the PEMs to command hooks only', async () => {
    const first = probeHook('webhook', ['renewed'], 'throw');
    const second = probeHook('command', ['renewed'], 'warning');
    const third = probeHook('github-dispatch', ['renewed']);
    const results = await runHooks([first.hook, second.hook, third.hook], sampleEvent(), { pems: pems() }, deps());
    expect(results).toEqual([
      {
        type: 'webhook',
        status: 'failed',
        message: 'webhook: boom',
        error: { class: 'hook', message: 'webhook: boom' },
      },
      { type: 'command', status: 'warning', message: 'meh' },
      { type: 'github-dispatch', status: 'ok' },
    ]);
    expect([first.calls[0]?.hadPems, second.calls[0]?.hadPems, third.calls[0]?.hadPems]).toEqual([false, true, false]);
  });

  it('never lets key material out: real webhook, GitHub, EventBridge and TLS exchanges, plus a command, all scanned', async () => {
    const webhook = await server((_req, res) => {
      res.writeHead(204).end();
    });
    const github = await server((_req, res) => {
      res.writeHead(204).end();
    });
    // A stand-in EventBridge endpoint, so the SDK's real wire request can be read back.
    const eventbridge = await server((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }));
    });
    const tlsPort = await tlsServer();
    const work = await mkdtemp(join(tmpdir(), 'certkeeper-scan-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));

    const d = deps({
      env: { PATH: process.env.PATH, GITHUB_API_URL: github.url, GITHUB_TOKEN: 'ghs_x', OUT: join(work, 'got-key') },
      eventBridgeClient: new EventBridgeClient({
        endpoint: eventbridge.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      }),
      tmpDir: work,
    });
    const configs: HookConfig[] = [
      {
        type: 'webhook',
        url: webhook.url,
        secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
        timeout: 5000,
        on: ['renewed'],
      },
      { type: 'github-dispatch', repository: 'acme/web', eventType: 'certificate-renewed', on: ['renewed'] },
      { type: 'aws-eventbridge', source: 'certkeeper', on: ['renewed'] },
      { type: 'command', run: 'cp "$CERTKEEPER_KEY_FILE" "$OUT"; cat "$CERTKEEPER_KEY_FILE"', on: ['renewed'] },
      { type: 'verify-endpoint', endpoints: [`127.0.0.1:${tlsPort}`], timeout: 10_000, on: ['renewed'] },
    ];
    const hooks = configs.map((c) => buildHook(c, d));
    const event = sampleEvent({ serialNumber: cert.serial });

    const results = await runHooks(hooks, event, { pems: pems() }, d);

    expect(results.map((r) => `${r.type}:${r.status}`)).toEqual([
      'webhook:ok',
      'github-dispatch:ok',
      'aws-eventbridge:ok',
      'command:ok',
      'verify-endpoint:ok',
    ]);
    // The command, and only the command, did get the key…
    expect(await readFile(join(work, 'got-key'), 'utf8')).toBe(cert.keyPem);
    // …and its temporary directory is gone.
    expect((await readdir(work)).filter((f) => f.startsWith('certkeeper-hook-'))).toEqual([]);

    const sent = [webhook, github, eventbridge].flatMap((s) => s.requests);
    expect(sent).toHaveLength(3);
    expect(JSON.parse(JSON.parse(eventbridge.requests[0]!.body).Entries[0].Detail)).toEqual(event);
    const keyBody = cert.keyPem.split('\n').find((l) => l.length > 40)!;
    for (const text of [
      ...sent.map((r) => JSON.stringify(r)),
      JSON.stringify(d.logger.lines),
      JSON.stringify(results),
    ]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(keyBody);
    }
  });

  it('sends nothing when the event itself carries key material: every selected hook fails', async () => {
    const webhook = await server((_req, res) => {
      res.writeHead(204).end();
    });
    const d = deps();
    const hooks = [
      buildHook({ type: 'webhook', url: webhook.url, timeout: 5000, on: ['failed'] }, d),
      buildHook({ type: 'webhook', url: webhook.url, timeout: 5000, on: ['renewed'] }, d),
    ];
    const event = sampleEvent(
      { error: { class: 'store', message: `bad secret: ${cert.keyPem}` } },
      'certificate.renewal_failed',
    );

    const results = await runHooks(hooks, event, {}, d);

    expect(results).toEqual([
      {
        type: 'webhook',
        status: 'failed',
        message: 'hooks: refusing to send private key material (found at data.error.message)',
        error: expect.objectContaining({ class: 'hook' }),
      },
    ]);
    expect(webhook.requests).toHaveLength(0);
    expect(JSON.stringify(d.logger.lines)).not.toContain('PRIVATE KEY');
  });
});
