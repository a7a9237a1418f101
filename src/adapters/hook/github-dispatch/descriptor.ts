import * as z from 'zod';
import type { HookDescriptor, OptionsOf } from '../../../ports/adapter.js';
import type { HookCommon } from '../../../ports/config.js';

const options = {
  repository: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'must be "owner/name"' })
    .meta({ description: 'The repository to dispatch to, "owner/name".' }),
  eventType: z
    .string()
    .min(1)
    .max(100)
    .default('certificate-renewed')
    .meta({ description: 'The repository_dispatch event_type.' }),
  token: z
    .string()
    .min(1)
    .optional()
    // biome-ignore lint/suspicious/noTemplateCurlyInString: config syntax
    .meta({ description: 'GitHub token; use "${env:NAME}". Default: the workflow token.' }),
};

export type GithubDispatchConfig = OptionsOf<typeof options> & HookCommon;

export const githubDispatch: HookDescriptor<typeof options> = {
  kind: 'hook',
  name: 'github-dispatch',
  doc:
    'Sends `repository_dispatch` to a repository with the event as `client_payload`, through Octokit ' +
    '(`GITHUB_API_URL` for GitHub Enterprise). The token defaults to the workflow token (`GITHUB_TOKEN`).',
  options,
  secrets: ['token'],
  secretEnv: ['GITHUB_TOKEN', 'INPUT_GITHUB-TOKEN'],
  permissions: () => ({
    grants: [
      'a token that may dispatch to the repository: a fine-grained token with "Contents: read and write" on it (the workflow token works for its own repository)',
    ],
  }),
  async create(config, ctx) {
    const { createGithubDispatchHook } = await import('./github-dispatch.js');
    return createGithubDispatchHook(config, {
      logger: ctx.logger,
      env: ctx.env,
      ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    });
  },
};
