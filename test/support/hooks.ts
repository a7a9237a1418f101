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
import type { Clock } from '../../src/ports/clock.js';
import type { HookOn } from '../../src/ports/config.js';
import type { DeployHook } from '../../src/ports/hooks.js';
import type { Logger } from '../../src/ports/logger.js';

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
