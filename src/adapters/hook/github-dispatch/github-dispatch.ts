import { getOctokit } from '@actions/github';
import { HookError } from '../../../ports/errors.js';
import type { CertificateEvent, DeployHook, HookOutcome } from '../../../ports/hooks.js';
import { assertNoKeyMaterial } from '../../../ports/hooks.js';
import type { Logger } from '../../../ports/logger.js';
import { type Env, errorMessage, snippet, withTimeout } from '../common.js';
import type { GithubDispatchConfig } from './descriptor.js';

export interface GithubDispatchDeps {
  logger: Logger;
  /** GITHUB_API_URL (GitHub Enterprise, tests), GITHUB_TOKEN, INPUT_GITHUB-TOKEN. */
  env: Env;
  /** Replaces @actions/github's proxy-aware fetch; for tests. */
  fetch?: typeof fetch;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends a `repository_dispatch` event (POST /repos/{owner}/{repo}/dispatches). `client_payload`
 * is the event itself: four top-level properties, well under GitHub's limit of ten.
 */
export function createGithubDispatchHook(config: GithubDispatchConfig, deps: GithubDispatchDeps): DeployHook {
  const [owner, repo] = config.repository.split('/') as [string, string];
  const baseUrl = (deps.env['GITHUB_API_URL'] || 'https://api.github.com').replace(/\/+$/, '');
  const log = deps.logger.child({ hook: 'github-dispatch', repository: config.repository });

  return {
    type: 'github-dispatch',
    on: config.on,
    async run(event: CertificateEvent, _context, signal?: AbortSignal): Promise<HookOutcome> {
      const token = resolveToken(config.token, deps.env);
      const client_payload = { type: event.type, id: event.id, timestamp: event.timestamp, data: event.data };
      assertNoKeyMaterial(client_payload, 'github-dispatch');
      const octokit = getOctokit(token, {
        baseUrl,
        userAgent: 'certkeeper',
        // Octokit warns on console by default; route it through our logger instead.
        log: {
          debug: (m: string) => log.debug(m),
          info: (m: string) => log.debug(m),
          warn: (m: string) => log.warn(m),
          error: (m: string) => log.error(m),
        },
      });
      try {
        await octokit.rest.repos.createDispatchEvent({
          owner,
          repo,
          event_type: config.eventType,
          client_payload,
          // Per request, so the proxy-aware default fetch of @actions/github stays in place.
          request: { signal: withTimeout(REQUEST_TIMEOUT_MS, signal), ...(deps.fetch ? { fetch: deps.fetch } : {}) },
        });
      } catch (error) {
        throw dispatchError(error, config.repository);
      }
      log.info('repository_dispatch sent', { eventType: config.eventType });
      return { status: 'ok', message: `dispatched "${config.eventType}" to ${config.repository}` };
    },
  };
}

/**
 * `token:` from config wins; otherwise the workflow's token. The Action passes it as the input
 * `github-token` (INPUT_GITHUB-TOKEN, hyphen kept, see FACTS) or the user exports GITHUB_TOKEN.
 */
function resolveToken(configured: string | undefined, env: Env): string {
  const token = (configured ?? env['GITHUB_TOKEN'] ?? env['INPUT_GITHUB-TOKEN'] ?? '').trim();
  if (token) return token;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: certkeeper's own ${env:…} config syntax, not a JS template
  throw new HookError('github-dispatch: no token: set `token: "${env:NAME}"` on the hook, or GITHUB_TOKEN', {
    hint: 'in a workflow, pass a token with `contents: write` on the target repository (the default GITHUB_TOKEN reaches only its own repository)',
  });
}

function dispatchError(error: unknown, repository: string): HookError {
  // Octokit reports a connection failure as status 500 too; only an error with a response is GitHub's answer.
  const answered = (error as { response?: unknown }).response !== undefined;
  const status = answered ? (error as { status?: unknown }).status : undefined;
  // RequestError carries GitHub's own message ("Not Found", "Resource not accessible by integration").
  const detail = snippet(errorMessage(error));
  if (status === 401) {
    return new HookError(`github-dispatch: the token was rejected (HTTP 401): ${detail}`, {
      cause: error,
      hint: 'the token is invalid or expired',
    });
  }
  if (status === 403 || status === 404) {
    return new HookError(`github-dispatch: ${repository} refused the dispatch (HTTP ${status}): ${detail}`, {
      cause: error,
      hint: 'the token needs `contents: write` on that repository; GITHUB_TOKEN only reaches the repository of its own workflow',
    });
  }
  if (typeof status === 'number' && status > 0) {
    return new HookError(`github-dispatch: ${repository} answered HTTP ${status}: ${detail}`, { cause: error });
  }
  return new HookError(`github-dispatch: could not reach the GitHub API: ${detail}`, { cause: error });
}
