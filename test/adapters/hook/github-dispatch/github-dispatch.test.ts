import { afterEach, describe, expect, it } from 'vitest';
import { createGithubDispatchHook } from '../../../../src/adapters/hook/github-dispatch/github-dispatch.js';
import { HookError } from '../../../../src/ports/errors.js';
import { sampleEvent } from '../../../support/fixtures.js';
import { startHttpServer, type TestServer } from '../../../support/hooks.js';
import { recordingLogger } from '../../../support/logger.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const config = {
  type: 'github-dispatch',
  repository: 'acme/web',
  eventType: 'certificate-renewed',
  on: ['renewed'],
} as const;

describe('github-dispatch hook', () => {
  it('POSTs /repos/{owner}/{repo}/dispatches with the event as client_payload', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const event = sampleEvent();
    const hook = createGithubDispatchHook(
      { ...config, on: [...config.on] },
      { logger: recordingLogger(), env: { GITHUB_API_URL: `${server.url}/api/v3`, GITHUB_TOKEN: 'ghs_workflowtoken' } },
    );

    const outcome = await hook.run(event, {});

    expect(outcome).toEqual({ status: 'ok', message: 'dispatched "certificate-renewed" to acme/web' });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v3/repos/acme/web/dispatches');
    expect(req.headers.authorization).toBe('token ghs_workflowtoken');
    expect(req.headers.accept).toBe('application/vnd.github.v3+json');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.headers['user-agent']).toMatch(/^certkeeper /);
    const body = JSON.parse(req.body);
    expect(body).toEqual({ event_type: 'certificate-renewed', client_payload: event });
    // GitHub rejects a client_payload with more than 10 top-level properties.
    expect(Object.keys(body.client_payload).length).toBeLessThanOrEqual(10);
  });

  it('prefers the token from config over the environment, then INPUT_GITHUB-TOKEN', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const env = { GITHUB_API_URL: server.url, GITHUB_TOKEN: 'from-env' };
    await createGithubDispatchHook(
      { ...config, on: ['renewed'], token: 'ghp_fromconfig' },
      { logger: recordingLogger(), env },
    ).run(sampleEvent(), {});
    await createGithubDispatchHook(
      { ...config, on: ['renewed'] },
      { logger: recordingLogger(), env: { GITHUB_API_URL: server.url, 'INPUT_GITHUB-TOKEN': 'from-input' } },
    ).run(sampleEvent(), {});
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['token ghp_fromconfig', 'token from-input']);
  });

  it('fails clearly without a token, before any request', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(204).end();
    });
    const hook = createGithubDispatchHook(
      { ...config, on: ['renewed'] },
      { logger: recordingLogger(), env: { GITHUB_API_URL: server.url } },
    );
    const error = await hook.run(sampleEvent(), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookError);
    expect((error as HookError).message).toMatch(/^github-dispatch: no token/);
    expect(server.requests).toHaveLength(0);
  });

  it('turns a 404 into a HookError naming the repository and the permission, without the token', async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
    });
    const hook = createGithubDispatchHook(
      { ...config, on: ['renewed'], token: 'ghp_secret_value_123' },
      { logger: recordingLogger(), env: { GITHUB_API_URL: server.url } },
    );
    const error = (await hook.run(sampleEvent(), {}).catch((e: unknown) => e)) as HookError;
    expect(error).toBeInstanceOf(HookError);
    expect(error.message).toMatch(/^github-dispatch: acme\/web refused the dispatch \(HTTP 404\): Not Found/);
    expect(error.hint).toMatch(/contents: write/);
    expect(`${error.message} ${error.hint}`).not.toContain('ghp_secret_value_123');
  });

  it('reports an unreachable API as a HookError', async () => {
    const gone = await startHttpServer(() => {});
    const url = gone.url;
    await gone.close();
    const hook = createGithubDispatchHook(
      { ...config, on: ['renewed'] },
      { logger: recordingLogger(), env: { GITHUB_API_URL: url, GITHUB_TOKEN: 't' } },
    );
    await expect(hook.run(sampleEvent(), {})).rejects.toThrow(/^github-dispatch: could not reach the GitHub API/);
  });
});
