import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EventBridgeConfig } from '../../src/adapters/hook/aws-eventbridge/descriptor.js';
import { createEventBridgeHook, type EventBridgeLike } from '../../src/adapters/hook/aws-eventbridge/eventbridge.js';
import { createCommandHook } from '../../src/adapters/hook/command/command.js';
import type { CommandConfig } from '../../src/adapters/hook/command/descriptor.js';
import type { GithubDispatchConfig } from '../../src/adapters/hook/github-dispatch/descriptor.js';
import { createGithubDispatchHook } from '../../src/adapters/hook/github-dispatch/github-dispatch.js';
import type { VerifyEndpointConfig } from '../../src/adapters/hook/verify-endpoint/descriptor.js';
import {
  createVerifyEndpointHook,
  type VerifyEndpointDeps,
} from '../../src/adapters/hook/verify-endpoint/verify-endpoint.js';
import type { WebhookConfig } from '../../src/adapters/hook/webhook/descriptor.js';
import { createWebhookHook } from '../../src/adapters/hook/webhook/webhook.js';
import { createSelfSignedCert } from '../../src/devstack/tlscert.js';
import type { Clock } from '../../src/ports/clock.js';
import type { HookOn } from '../../src/ports/config.js';
import type { CertificateEvent, DeployHook } from '../../src/ports/hooks.js';
import type { Logger } from '../../src/ports/logger.js';

/**
 * A clock whose sleeps return at once and move its time forward to when they would have ended;
 * records every sleep. Sleeps started at the same time end at the same time, as real ones do.
 */
export function fakeClock(start = new Date()): Clock & { sleeps: number[] } {
  let now = start.getTime();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(now),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      const wake = now + ms;
      // Yield so servers and timers get a turn, as a real wait would allow.
      await new Promise((r) => setImmediate(r));
      now = Math.max(now, wake);
    },
  };
}

/**
 * Real time, sped up `factor` times: a 3 s sleep takes 3000/factor ms. For pollers running in
 * parallel, whose interleaving a jumping fake clock would distort.
 */
export function scaledClock(factor: number): Clock {
  const startReal = Date.now();
  return {
    now: () => new Date(startReal + (Date.now() - startReal) * factor),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        setTimeout(resolve, ms / factor);
      }),
  };
}

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line, so tests can scan what would have been printed. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (base: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        lines.push({ level, message, fields: { ...base, ...fields } });
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return Object.assign(make({}), { lines });
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records each request and answers with `handler`. */
export async function startHttpServer(
  handler: (req: RecordedRequest, res: ServerResponse, index: number) => void | Promise<void>,
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(recorded);
    await handler(recorded, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** Lower-case hex, as the stored format keeps it. */
  serial: string;
}

export async function makeCert(domains: string[]): Promise<TestCert> {
  const { certPem, keyPem } = await createSelfSignedCert(domains);
  return { certPem, keyPem, serial: new X509Certificate(certPem).serialNumber.toLowerCase() };
}

export function sampleEvent(
  overrides: Partial<CertificateEvent['data']> = {},
  type: CertificateEvent['type'] = 'certificate.renewed',
): CertificateEvent {
  return {
    type,
    id: '5f0c6c2e-6a43-4d7e-9a55-0d1f1f3f7c21',
    timestamp: new Date().toISOString(),
    data: {
      certificate: 'example-com',
      domains: ['example.com', '*.example.com'],
      serialNumber: '04a1b2c3',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
      previous: { serialNumber: '03ffeedd', notAfter: '2026-01-15T00:00:00.000Z' },
      store: { type: 'file', ref: '.certkeeper/example-com', version: '2' },
      ...overrides,
    },
  };
}

export interface HookDeps {
  logger: Logger;
  clock: Clock;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  eventBridgeClient?: EventBridgeLike;
  commandTimeoutMs?: number;
  tmpDir?: string;
  verify?: Pick<VerifyEndpointDeps, 'intervalMs' | 'resolveHost' | 'probe'>;
}

/** Builds one hook straight from its adapter, with the test's stand-ins (EventBridge client, temp dir, TLS probe). */
export function buildHook(config: { type: string; on: HookOn[]; [k: string]: unknown }, deps: HookDeps): DeployHook {
  const fetchOpt = deps.fetch ? { fetch: deps.fetch } : {};
  switch (config.type) {
    case 'webhook':
      return createWebhookHook(config as unknown as WebhookConfig, {
        logger: deps.logger,
        clock: deps.clock,
        ...fetchOpt,
      });
    case 'github-dispatch':
      return createGithubDispatchHook(config as unknown as GithubDispatchConfig, {
        logger: deps.logger,
        env: deps.env,
        ...fetchOpt,
      });
    case 'aws-eventbridge':
      return createEventBridgeHook(config as unknown as EventBridgeConfig, {
        logger: deps.logger,
        ...(deps.eventBridgeClient ? { client: deps.eventBridgeClient } : {}),
      });
    case 'command':
      return createCommandHook(config as unknown as CommandConfig, {
        logger: deps.logger,
        env: deps.env,
        ...(deps.commandTimeoutMs !== undefined ? { timeoutMs: deps.commandTimeoutMs } : {}),
        ...(deps.tmpDir ? { tmpDir: deps.tmpDir } : {}),
      });
    case 'verify-endpoint':
      return createVerifyEndpointHook(config as unknown as VerifyEndpointConfig, {
        logger: deps.logger,
        clock: deps.clock,
        ...deps.verify,
      });
    default:
      throw new Error(`no such hook type ${config.type}`);
  }
}
