import * as z from 'zod';
import type { HookDescriptor, OptionsOf } from '../../../ports/adapter.js';
import type { HookCommon } from '../../../ports/config.js';

const options = {
  run: z.string().min(1).meta({ description: 'Shell command (CLI and Action only).' }),
};

export type CommandConfig = OptionsOf<typeof options> & HookCommon;

export const command: HookDescriptor<typeof options> = {
  kind: 'hook',
  name: 'command',
  doc:
    'Runs a shell command with `CERTKEEPER_ID`, `CERTKEEPER_DOMAINS` and the paths of temporary PEM files ' +
    "(0600, in a 0700 directory removed afterwards) in its environment, like certbot's `--deploy-hook`. The only " +
    'hook that ever receives the private key. CLI and Action only: a Lambda has nothing to deploy to on its disk ' +
    '(use webhook, github-dispatch or aws-eventbridge there).',
  options,
  secrets: [],
  entryPoints: ['cli', 'github-action'],
  permissions: () => ({ grants: ['whatever the command itself needs'] }),
  async create(config, ctx) {
    const { createCommandHook } = await import('./command.js');
    return createCommandHook(config, { logger: ctx.logger, env: ctx.env });
  },
};
