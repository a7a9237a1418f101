import { createServer, type Server } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifyEndpointHook,
  normalizeSerial,
  sniFor,
} from '../../../../src/adapters/hook/verify-endpoint/verify-endpoint.js';
import type { Clock } from '../../../../src/ports/clock.js';
import { fakeClock, scaledClock } from '../../../support/clock.js';
import { makeCert, sampleEvent, type TestCert } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/logger.js';

let oldCert: TestCert;
let newCert: TestCert;
beforeAll(async () => {
  [oldCert, newCert] = await Promise.all([
    makeCert(['example.com', '*.example.com']),
    makeCert(['example.com', '*.example.com']),
  ]);
});

interface TlsTestServer {
  port: number;
  /** SNI of each handshake, in order. */
  servernames: (string | false)[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * A real TLS server serving `oldCert`; after `switchAfter` connections (never if undefined) it
 * switches to `newCert` with setSecureContext, as a server reloading its certificate does.
 */
async function startTlsServer(switchAfter?: number): Promise<TlsTestServer> {
  const servernames: (string | false)[] = [];
  let connections = 0;
  const server = createServer({
    cert: oldCert.certPem,
    key: oldCert.keyPem,
    // Called during the ClientHello, so the name is recorded before the client can hang up.
    SNICallback: (name, cb) => {
      servernames.push(name);
      cb(null, undefined);
    },
  });
  // Runs after tls.Server's own listener has given this socket the current context, so a switch
  // here takes effect from the next connection on.
  server.on('connection', () => {
    connections++;
    if (connections === switchAfter) server.setSecureContext({ cert: newCert.certPem, key: newCert.keyPem });
  });
  server.on('secureConnection', (socket) => socket.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    port: (server.address() as { port: number }).port,
    servernames,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function hook(
  endpoints: string[],
  opts: { timeout?: number; resolveHost?: (h: string) => string; clock?: Clock } = {},
) {
  const clock = fakeClock(new Date());
  const h = createVerifyEndpointHook(
    { type: 'verify-endpoint', endpoints, timeout: opts.timeout ?? 300_000, on: ['renewed'] },
    {
      logger: recordingLogger(),
      clock: opts.clock ?? clock,
      ...(opts.resolveHost ? { resolveHost: opts.resolveHost } : {}),
    },
  );
  return { h, clock };
}

describe('verify-endpoint hook', () => {
  it('polls until the endpoint serves the new serial, sending the first plain domain as SNI', async () => {
    const srv = await startTlsServer(2);
    const { h, clock } = hook([`127.0.0.1:${srv.port}`]);
    const event = sampleEvent({ domains: ['*.example.com', 'example.com'], serialNumber: newCert.serial });

    const outcome = await h.run(event, {});

    expect(outcome).toEqual({ status: 'ok', message: `endpoint serves ${normalizeSerial(newCert.serial)}` });
    // Handshakes 1 and 2 saw the old certificate, the third the new one.
    expect(srv.servernames).toEqual(['example.com', 'example.com', 'example.com']);
    expect(clock.sleeps).toEqual([3000, 3000]);
  });

  it('warns "renewed but not served" when the endpoint never switches within the timeout', async () => {
    const srv = await startTlsServer();
    const { h, clock } = hook([`127.0.0.1:${srv.port}`], { timeout: 10_000 });
    const event = sampleEvent({ serialNumber: newCert.serial });

    const outcome = await h.run(event, {});

    expect(outcome).toEqual({
      status: 'warning',
      message: `renewed but not served: 127.0.0.1:${srv.port} serves ${oldCert.serial.toLowerCase()}`,
    });
    // 10 s at 3 s intervals: tries at 0, 3, 6, 9 s; the fake clock never really waited.
    expect(srv.servernames).toHaveLength(4);
    expect(clock.sleeps).toEqual([3000, 3000, 3000]);
  });

  it('uses the endpoint name as SNI when the certificate covers it (resolved to 127.0.0.1 here)', async () => {
    const srv = await startTlsServer();
    const { h } = hook([`www.example.com:${srv.port}`], {
      resolveHost: (host) => (host === 'www.example.com' ? '127.0.0.1' : host),
    });
    expect((await h.run(sampleEvent({ serialNumber: oldCert.serial }), {})).status).toBe('ok');
    expect(srv.servernames).toEqual(['www.example.com']);
  });

  it('makes up a name under a wildcard-only certificate', () => {
    expect(sniFor('127.0.0.1', ['*.example.com'])).toBe('certkeeper-verify.example.com');
    expect(sniFor('lb-123.elb.amazonaws.com', ['*.example.com', 'example.com'])).toBe('example.com');
    expect(sniFor('a.b.example.com', ['*.example.com', 'example.com'])).toBe('example.com');
    expect(sniFor('API.example.com', ['*.example.com'])).toBe('api.example.com');
  });

  it('reports each endpoint that does not serve it; unreachable ones too', async () => {
    const good = await startTlsServer(1);
    const stale = await startTlsServer();
    const closed = await startTlsServer();
    await closed.close();
    // Three pollers at once: a clock that really (but 100× faster) waits keeps them interleaved as in production.
    const { h } = hook([`127.0.0.1:${good.port}`, `127.0.0.1:${stale.port}`, `127.0.0.1:${closed.port}`], {
      timeout: 20_000,
      clock: scaledClock(100),
    });

    const outcome = await h.run(sampleEvent({ serialNumber: newCert.serial }), {});

    expect(outcome.status).toBe('warning');
    expect(outcome.message).toMatch(
      new RegExp(
        `^renewed but not served: 127\\.0\\.0\\.1:${stale.port} serves ${oldCert.serial.toLowerCase()}; 127\\.0\\.0\\.1:${closed.port} unreachable \\(connect ECONNREFUSED`,
      ),
    );
    expect(outcome.message).not.toContain(`:${good.port}`);
  });

  it("inspect (the doctor's look): one handshake per endpoint, no waiting, the served serial against the expected one", async () => {
    const srv = await startTlsServer();
    const closed = await startTlsServer();
    await closed.close();
    const { h, clock } = hook([`127.0.0.1:${srv.port}`, `127.0.0.1:${closed.port}`]);
    const domains = ['example.com', '*.example.com'];
    const states = await h.inspect?.({ serialNumber: newCert.serial, domains });
    expect(states).toEqual([
      { endpoint: `127.0.0.1:${srv.port}`, servedSerial: normalizeSerial(oldCert.serial), serves: false },
      { endpoint: `127.0.0.1:${closed.port}`, serves: false, error: expect.stringContaining('ECONNREFUSED') },
    ]);
    expect((await h.inspect?.({ serialNumber: `00:${oldCert.serial.toUpperCase()}`, domains }))?.[0]?.serves).toBe(
      true,
    );
    expect(srv.servernames).toEqual(['example.com', 'example.com']);
    expect(clock.sleeps).toEqual([]);
  });

  it('compares serials regardless of case, colons and leading zeros', () => {
    expect(normalizeSerial('00:AB:0C')).toBe(normalizeSerial('ab0c'));
    expect(normalizeSerial('0')).toBe('0');
  });
});
