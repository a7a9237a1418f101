/**
 * Hooks end to end: real Pebble issuance through the core runner (runLocal → run → createAdapters),
 * real receivers on loopback (webhook, a fake GitHub API, a TLS endpoint), moto's EventBridge read
 * back through a rule → SQS queue, and a real /bin/sh command. Nothing of our own code is stubbed.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunReport } from '../../src/core/results.js';
import type { CertificateEvent } from '../../src/ports/hooks.js';
import { captureLog, localConfig, runLocal, tempDir, uniqueZone } from '../support/certkeeper.js';
import { scaledClock } from '../support/clock.js';
import { busWithQueue } from '../support/eventbridge-queue.js';
import { makeCert, type TestCert } from '../support/fixtures.js';
import { type RecordedRequest, startHttpServer, type TestServer } from '../support/hooks.js';
import { getStack } from '../support/stack.js';

const stack = getStack();
/** A Standard Webhooks secret, handed to the config only through `${env:HOOK_SECRET}`. */
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const GITHUB_TOKEN = 'ghs_e2e_dispatch_token';
// biome-ignore lint/suspicious/noTemplateCurlyInString: certkeeper's own ${env:…} config syntax
const SECRET_REF = '${env:HOOK_SECRET}';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function httpServer(...args: Parameters<typeof startHttpServer>): Promise<TestServer> {
  const server = await startHttpServer(...args);
  cleanups.push(() => server.close());
  return server;
}

/** Checks the Standard Webhooks signature with the library receivers use; returns the event. */
function verified(req: RecordedRequest, secret = SECRET): CertificateEvent {
  const headers = {
    'webhook-id': String(req.headers['webhook-id']),
    'webhook-timestamp': String(req.headers['webhook-timestamp']),
    'webhook-signature': String(req.headers['webhook-signature']),
  };
  return new Webhook(secret).verify(req.body, headers) as CertificateEvent;
}

interface TlsEndpoint {
  port: number;
  /** SNI of each handshake. */
  servernames: string[];
  serve(certPem: string, keyPem: string): void;
}

/** A real TLS server; `serve` switches its certificate as a server reloading it would. */
async function tlsEndpoint(initial: TestCert): Promise<TlsEndpoint> {
  const servernames: string[] = [];
  const server: TlsServer = createTlsServer({
    cert: initial.certPem,
    key: initial.keyPem,
    SNICallback: (name, cb) => {
      servernames.push(name);
      cb(null, undefined);
    },
  });
  server.on('secureConnection', (socket) => socket.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    port: (server.address() as { port: number }).port,
    servernames,
    serve: (cert, key) => server.setSecureContext({ cert, key }),
  };
}

/**
 * PRODUCT §2: no event, request, output or log line ever contains private key material: no PEM
 * marker ("PRIVATE KEY", as PEM writes it; the log's lower-case "[redacted: private key material]"
 * is allowed), and no line of the base64 body of any of `keys`.
 */
function expectNoKeyMaterial(captured: unknown, keys: string[] = []): void {
  const text = JSON.stringify(captured);
  expect(text.length).toBeGreaterThan(0);
  expect(text).not.toContain('PRIVATE KEY');
  const bodyLines = keys.flatMap((k) => k.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
  for (const line of bodyLines) expect(text).not.toContain(line);
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('hooks end to end (Pebble issuance through the runner)', () => {
  it('a renewal runs webhook, github-dispatch, aws-eventbridge, command and verify-endpoint in order, twice', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('deploy');
    const live = join(dir, 'site');

    // The endpoint serves an old certificate until the webhook receiver "deploys" the renewed one:
    // hooks run in order, so verify-endpoint (last) sees what the webhook (first) switched to.
    const endpoint = await tlsEndpoint(await makeCert([zone]));
    const receiver = await httpServer(async (req, res) => {
      if (verified(req).type === 'certificate.renewed') {
        endpoint.serve(
          await readFile(join(live, 'fullchain.pem'), 'utf8'),
          await readFile(join(live, 'privkey.pem'), 'utf8'),
        );
      }
      res.writeHead(204).end();
    });
    const github = await httpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const { bus, receive } = await busWithQueue(stack.motoEndpoint, 'e2e-hooks');
    // The EventBridge hook builds its client from the standard AWS environment, as on Lambda.
    for (const [k, v] of Object.entries(stack.motoEnv)) vi.stubEnv(k, v);
    const commandOut = await tempDir('ck-e2e-cmd-');

    const raw = localConfig(stack, dir, [
      {
        id: 'site',
        domains: [zone],
        hooks: [
          { type: 'webhook', url: `${receiver.url}/hooks/cert`, secret: SECRET_REF, timeout: '5s' },
          { type: 'github-dispatch', repository: 'acme/web', eventType: 'certificate-renewed' },
          { type: 'aws-eventbridge', eventBusName: bus },
          {
            type: 'command',
            // Copies what it was handed, then prints the key, as a careless deploy script might:
            // that output must reach the log redacted.
            run: [
              `d="${commandOut}/$CERTKEEPER_SERIAL"`,
              'mkdir "$d"',
              'env | grep "^CERTKEEPER_" | sort > "$d/env"',
              'cp "$CERTKEEPER_CERT_FILE" "$CERTKEEPER_CHAIN_FILE" "$CERTKEEPER_FULLCHAIN_FILE" "$CERTKEEPER_KEY_FILE" "$d/"',
              'cat "$CERTKEEPER_KEY_FILE"',
            ].join(' && '),
          },
          { type: 'verify-endpoint', endpoints: [`127.0.0.1:${endpoint.port}`], timeout: '5s' },
        ],
      },
    ]);
    const env = {
      HOOK_SECRET: SECRET,
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN,
      PATH: process.env.PATH,
    };
    const log = captureLog();
    const reports: RunReport[] = [];
    const keys: string[] = [];
    const eventbridge: unknown[] = [];

    for (const round of [1, 2]) {
      const report = await runLocal(raw, { env, log, force: round === 2 });
      reports.push(report);
      const [r] = report.results;
      expect(r).toMatchObject({ id: 'site', status: 'renewed' });
      expect(r!.error).toBeUndefined();
      expect(r!.hooks).toEqual([
        { type: 'webhook', status: 'ok', message: expect.stringMatching(/HTTP 204/) },
        { type: 'github-dispatch', status: 'ok', message: 'dispatched "certificate-renewed" to acme/web' },
        { type: 'aws-eventbridge', status: 'ok', message: expect.stringContaining(`put on ${bus} bus`) },
        { type: 'command', status: 'ok', message: 'command exited with code 0' },
        { type: 'verify-endpoint', status: 'ok', message: expect.stringContaining('endpoint serves') },
      ]);
      const meta = JSON.parse(await readFile(join(live, 'meta.json'), 'utf8'));
      expect(meta.serialNumber).toBe(r!.serialNumber);

      // 1. The webhook: one signed POST whose signature verifies with the configured secret.
      expect(receiver.requests).toHaveLength(round);
      const req = receiver.requests[round - 1]!;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/hooks/cert');
      expect(req.headers['content-type']).toBe('application/json');
      expect(() => verified(req, `whsec_${randomBytes(24).toString('base64')}`)).toThrow();
      const event = verified(req);
      expect(req.headers['webhook-id']).toBe(event.id);
      expect(event).toEqual({
        type: 'certificate.renewed',
        id: expect.stringMatching(UUID),
        timestamp: expect.stringMatching(ISO),
        data: {
          certificate: 'site',
          domains: [zone],
          serialNumber: r!.serialNumber,
          notBefore: meta.notBefore,
          notAfter: r!.notAfter,
          ...(round === 2
            ? {
                previous: {
                  serialNumber: reports[0]!.results[0]!.serialNumber,
                  notAfter: reports[0]!.results[0]!.notAfter,
                },
              }
            : {}),
          store: { type: 'file', ref: live, version: r!.store!.version },
        },
      });
      expect(r!.store).toEqual({ type: 'file', ref: live, version: expect.any(String) });
      if (round === 2) expect(event.data.serialNumber).not.toBe(event.data.previous!.serialNumber);

      // 2. The exact repository_dispatch request.
      expect(github.requests).toHaveLength(round);
      const dispatch = github.requests[round - 1]!;
      expect(dispatch.method).toBe('POST');
      expect(dispatch.url).toBe('/repos/acme/web/dispatches');
      expect(dispatch.headers.authorization).toBe(`token ${GITHUB_TOKEN}`);
      expect(JSON.parse(dispatch.body)).toEqual({ event_type: 'certificate-renewed', client_payload: event });

      // 3. The EventBridge event, read back from the queue its rule feeds.
      const messages = await receive();
      expect(messages).toHaveLength(1);
      eventbridge.push(...messages);
      const envelope = JSON.parse(messages[0]!.Body);
      expect(envelope).toMatchObject({ source: 'certkeeper', 'detail-type': 'certificate.renewed' });
      expect(envelope.detail).toEqual(event);

      // 7. The command: id, domains, event, serial in its environment; the PEMs as files it could read.
      const handed = join(commandOut, r!.serialNumber!);
      const vars = Object.fromEntries(
        (await readFile(join(handed, 'env'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(vars).toMatchObject({
        CERTKEEPER_ID: 'site',
        CERTKEEPER_DOMAINS: zone,
        CERTKEEPER_EVENT: 'certificate.renewed',
        CERTKEEPER_SERIAL: r!.serialNumber,
      });
      for (const [file, stored] of [
        ['cert.pem', 'cert.pem'],
        ['chain.pem', 'chain.pem'],
        ['fullchain.pem', 'fullchain.pem'],
        ['privkey.pem', 'privkey.pem'],
      ] as const) {
        expect(await readFile(join(handed, file), 'utf8')).toBe(await readFile(join(live, stored), 'utf8'));
      }
      const key = await readFile(join(handed, 'privkey.pem'), 'utf8');
      keys.push(key);
      const leaf = new X509Certificate(await readFile(join(handed, 'cert.pem'), 'utf8'));
      expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
      expect(leaf.serialNumber.toLowerCase()).toBe(r!.serialNumber);
      // The temporary PEM directory is gone once the hook has run.
      await expect(stat(dirname(vars.CERTKEEPER_KEY_FILE!))).rejects.toThrow(/ENOENT/);

      // 4a. verify-endpoint saw the new certificate, asking for it by the certificate's name (SNI).
      expect(endpoint.servernames.at(-1)).toBe(zone);
    }

    // The command did print the key; the log holds only the redaction marker.
    expect(log.lines.join('\n')).toContain('[redacted: private key material]');
    // 7. Nothing that left the process or was logged carries key material.
    expect(keys).toHaveLength(2);
    expectNoKeyMaterial(
      { webhook: receiver.requests, github: github.requests, eventbridge, log: log.lines, reports },
      keys,
    );
  });

  it('verify-endpoint on a server that keeps the old certificate: renewed, with a warning "renewed but not served"', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('stale');
    const old = await makeCert([zone]);
    const endpoint = await tlsEndpoint(old);
    const log = captureLog();
    const report = await runLocal(
      localConfig(stack, dir, [
        {
          id: 'stale',
          domains: [zone],
          hooks: [{ type: 'verify-endpoint', endpoints: [`127.0.0.1:${endpoint.port}`], timeout: '2s' }],
        },
      ]),
      { log },
    );
    const [r] = report.results;
    expect(r).toMatchObject({ status: 'renewed' });
    expect(r!.error).toBeUndefined();
    expect(r!.hooks).toEqual([
      {
        type: 'verify-endpoint',
        status: 'warning',
        message: `renewed but not served: 127.0.0.1:${endpoint.port} serves ${old.serial}`,
      },
    ]);
    expect(endpoint.servernames).toContain(zone);
    expect(report.summary).toMatchObject({ renewed: 1, failed: 0 });
    expectNoKeyMaterial({ log: log.lines, report }, [await readFile(join(dir, 'stale', 'privkey.pem'), 'utf8')]);
  });

  it('a failed renewal sends certificate.renewal_failed to `on: [failed]` hooks only', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('fail');
    const onFailed = await httpServer((_req, res) => {
      res.writeHead(200).end('ok');
    });
    const onRenewed = await httpServer((_req, res) => {
      res.writeHead(200).end('ok');
    });
    const log = captureLog();
    const report = await runLocal(
      localConfig(stack, dir, [
        {
          id: 'broken',
          domains: [zone],
          // Nothing listens on port 9: the DNS provider's API is unreachable.
          dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' },
          hooks: [
            { type: 'webhook', url: onFailed.url, secret: SECRET_REF, on: ['failed'], timeout: '5s' },
            { type: 'webhook', url: onRenewed.url, secret: SECRET_REF, timeout: '5s' },
          ],
        },
      ]),
      { env: { HOOK_SECRET: SECRET }, log },
    );
    const [r] = report.results;
    expect(r).toMatchObject({ status: 'failed', error: { class: 'dns-provider' } });
    expect(r!.hooks).toEqual([{ type: 'webhook', status: 'ok', message: expect.stringMatching(/HTTP 200/) }]);

    expect(onRenewed.requests).toHaveLength(0);
    expect(onFailed.requests).toHaveLength(1);
    const event = verified(onFailed.requests[0]!);
    expect(event).toEqual({
      type: 'certificate.renewal_failed',
      id: expect.stringMatching(UUID),
      timestamp: expect.stringMatching(ISO),
      data: {
        certificate: 'broken',
        domains: [zone],
        store: { type: 'file', ref: join(dir, 'broken') },
        error: { class: 'dns-provider', message: r!.error!.message },
      },
    });
    expect(event.data.error!.message).toMatch(/challtestsrv/);
    expectNoKeyMaterial({ requests: onFailed.requests, log: log.lines, report });
  });

  it('a failing hook never rolls back: the result stays renewed, the hook is failed (class hook), later hooks run', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('hookfail');
    const failing = await httpServer((_req, res) => {
      res.writeHead(500).end('receiver down');
    });
    const next = await httpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const log = captureLog();
    const report = await runLocal(
      localConfig(stack, dir, [
        {
          id: 'kept',
          domains: [zone],
          hooks: [
            { type: 'webhook', url: failing.url, secret: SECRET_REF, timeout: '2s' },
            { type: 'webhook', url: next.url, timeout: '2s' },
          ],
        },
      ]),
      // The webhook's 1 s and 4 s backoff, ten times faster: the tries are real, the waits short.
      { env: { HOOK_SECRET: SECRET }, log, clock: scaledClock(10) },
    );
    const [r] = report.results;
    expect(r).toMatchObject({ id: 'kept', status: 'renewed', health: 'ok' });
    expect(r!.error).toBeUndefined();
    expect(r!.hooks).toEqual([
      {
        type: 'webhook',
        status: 'failed',
        message: expect.stringMatching(/failed after 3 tries: HTTP 500: receiver down/),
        error: expect.objectContaining({ class: 'hook' }),
      },
      { type: 'webhook', status: 'ok', message: expect.stringMatching(/HTTP 204/) },
    ]);
    expect(report.summary).toMatchObject({ renewed: 1, failed: 0 });
    // Three tries of the same event (same webhook-id), each one signed.
    expect(failing.requests).toHaveLength(3);
    expect(new Set(failing.requests.map((q) => q.headers['webhook-id'])).size).toBe(1);
    for (const q of failing.requests) expect(verified(q).data.serialNumber).toBe(r!.serialNumber);
    expect(next.requests).toHaveLength(1);

    // The certificate is stored all the same.
    const meta = JSON.parse(await readFile(join(dir, 'kept', 'meta.json'), 'utf8'));
    expect(meta.serialNumber).toBe(r!.serialNumber);
    const leaf = new X509Certificate(await readFile(join(dir, 'kept', 'cert.pem'), 'utf8'));
    expect(leaf.subjectAltName).toBe(`DNS:${zone}`);
    const key = await readFile(join(dir, 'kept', 'privkey.pem'), 'utf8');
    expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expectNoKeyMaterial({ requests: [...failing.requests, ...next.requests], log: log.lines, report }, [key]);
  });
});
