import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookHook } from '../../../../src/adapters/hook/webhook/webhook.js';
import { HookError } from '../../../../src/ports/errors.js';
import { fakeClock } from '../../../support/clock.js';
import { sampleEvent } from '../../../support/fixtures.js';
import { startHttpServer, type TestServer } from '../../../support/hooks.js';
import { recordingLogger } from '../../../support/logger.js';

const SECRET = `whsec_${Buffer.from('a-32-byte-secret-for-hmac-tests!').toString('base64')}`;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function hook(url: string, extra: { secret?: string; timeout?: number } = {}) {
  const clock = fakeClock(new Date());
  const logger = recordingLogger();
  const h = createWebhookHook(
    {
      type: 'webhook',
      url,
      timeout: extra.timeout ?? 15_000,
      on: ['renewed'],
      ...(extra.secret ? { secret: extra.secret } : {}),
    },
    { logger, clock },
  );
  return { h, clock, logger };
}

describe('webhook hook', () => {
  it('POSTs the event, signed so that the standardwebhooks library verifies it', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const event = sampleEvent();
    const { h, clock } = hook(`${server.url}/hooks/cert`, { secret: SECRET });

    const outcome = await h.run(event, {});

    expect(outcome.status).toBe('ok');
    expect(clock.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/cert');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toBe(event.id);
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(SECRET).verify(req.body, req.headers as Record<string, string>);
    expect(verified).toEqual(event);
  });

  it('signs with the raw bytes of a secret without the whsec_ prefix', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(200).end('ok');
    });
    const { h } = hook(server.url, { secret: 'plain shared secret' });
    await h.run(sampleEvent(), {});
    const req = server.requests[0]!;
    const receiver = new Webhook(new Uint8Array(Buffer.from('plain shared secret')), { format: 'raw' });
    expect(() => receiver.verify(req.body, req.headers as Record<string, string>)).not.toThrow();
    // …and a receiver with another key rejects it.
    expect(() => new Webhook(SECRET).verify(req.body, req.headers as Record<string, string>)).toThrow();
  });

  it('retries a 500 and succeeds, with the same webhook-id and a fresh signature each try', async () => {
    server = await startHttpServer((_req, res, i) => {
      res.writeHead(i < 2 ? 500 : 200).end(i < 2 ? 'busy' : 'ok');
    });
    const { h, clock } = hook(server.url, { secret: SECRET });
    const event = sampleEvent();

    const outcome = await h.run(event, {});

    expect(outcome.status).toBe('ok');
    expect(server.requests).toHaveLength(3);
    expect(new Set(server.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
    expect(clock.sleeps).toEqual([1000, 4000]);
    for (const r of server.requests) {
      expect(() => new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    }
    // The fake clock moved on between tries, so each try carries its own timestamp.
    expect(new Set(server.requests.map((r) => r.headers['webhook-timestamp'])).size).toBe(3);
  });

  it('gives up after 3 tries of 503 and honours Retry-After up to its cap', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(503, { 'retry-after': '10' }).end('maintenance');
    });
    const { h, clock } = hook(server.url);
    const error = await h.run(sampleEvent(), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookError);
    expect((error as HookError).message).toMatch(/^webhook: .* failed after 3 tries: HTTP 503: maintenance/);
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([10_000, 10_000]);
  });

  it('does not retry a 400', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(400).end('bad payload');
    });
    const { h, clock } = hook(server.url);
    await expect(h.run(sampleEvent(), {})).rejects.toThrow(/^webhook: .* rejected the event \(HTTP 400: bad payload\)/);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not follow a 302', async () => {
    server = await startHttpServer((req, res) => {
      if (req.url === '/elsewhere') res.writeHead(200).end();
      else res.writeHead(302, { location: '/elsewhere' }).end();
    });
    const { h } = hook(`${server.url}/hook`);
    await expect(h.run(sampleEvent(), {})).rejects.toThrow(
      /^webhook: .*HTTP 302 \(redirect\); redirects are not followed/,
    );
    expect(server.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('times out a receiver that never answers, and retries', async () => {
    server = await startHttpServer(() => {
      // Never answers; closeAllConnections() in afterEach ends it.
    });
    const { h } = hook(server.url, { timeout: 200 });
    const started = Date.now();
    await expect(h.run(sampleEvent(), {})).rejects.toThrow(/^webhook: .* failed after 3 tries: no answer within 200ms/);
    expect(server.requests).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('retries a refused connection', async () => {
    const gone = await startHttpServer(() => {});
    const url = gone.url;
    await gone.close();
    const { h } = hook(url);
    await expect(h.run(sampleEvent(), {})).rejects.toThrow(/failed after 3 tries: fetch failed: .*ECONNREFUSED/);
  });

  it('keeps the path (which may hold a token) out of errors and logs', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(404).end();
    });
    const { h, logger } = hook(`${server.url}/services/T000/B000/supersecrettoken`);
    const error = (await h.run(sampleEvent(), {}).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`${server.url}/…`);
    expect(error.message).not.toContain('supersecrettoken');
    expect(JSON.stringify(logger.lines)).not.toContain('supersecrettoken');
  });

  it('refuses plain http to a non-loopback host even if config validation was bypassed', () => {
    expect(() =>
      createWebhookHook(
        { type: 'webhook', url: 'http://deploy.example.com/x', timeout: 15_000, on: ['renewed'] },
        { logger: recordingLogger(), clock: fakeClock(new Date()) },
      ),
    ).toThrow(/^webhook: http:\/\/deploy\.example\.com\/… must use https/);
  });

  it('refuses an event that carries key material, before any request', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const { h } = hook(server.url);
    const event = sampleEvent({ error: { class: 'store', message: '-----BEGIN PRIVATE KEY-----\nMIG…' } });
    await expect(h.run(event, {})).rejects.toThrow(
      /^webhook: refusing to send private key material \(found at data\.error\.message\)/,
    );
    expect(server.requests).toHaveLength(0);
  });
});
