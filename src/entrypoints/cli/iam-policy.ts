import { parseArgs } from 'node:util';
import { consoleLogger } from '../../adapters/logging/console.js';
import { createAdapters, registry } from '../../adapters/registry.js';
import { configPermissions } from '../../core/permissions.js';
import { systemClock } from '../../ports/clock.js';
import { type CliIo, load } from './main.js';

export const IAM_POLICY_USAGE = `usage: certkeeper iam-policy [options]

Prints the least-privilege IAM policy for exactly this config: Route 53 changes pinned to the
configured zones and _acme-challenge record names, Secrets Manager on the configured secrets (and
their .lock), KMS keys, ACM, EventBridge buses. Grants outside AWS (DNS provider tokens, TSIG keys)
go to stderr as notes. No network call unless --discover.

options:
  -c, --config <file>          config file (default: certkeeper.yml)
      --discover               look up what the config leaves to discovery (hosted zone ids), with
                               the credentials of the environment
      --ssm-parameter <name>   the SSM parameter a Lambda reads its config from (GetParameter)
  -h, --help                   this help

exit status: 0 printed, 2 config or usage error`;

/** `certkeeper iam-policy`: the policy a run of this config needs, derived from the adapter descriptors. */
export async function iamPolicyCommand(argv: string[], io: CliIo): Promise<number> {
  let values: { config: string; discover?: boolean; 'ssm-parameter'?: string; help?: boolean };
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c', default: 'certkeeper.yml' },
        discover: { type: 'boolean' },
        'ssm-parameter': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    values = parsed.values as typeof values;
  } catch (error) {
    io.stderr(`certkeeper iam-policy: ${(error as Error).message}\n\n${IAM_POLICY_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${IAM_POLICY_USAGE}\n`);
    return 0;
  }
  const config = await load(values.config, io);
  if (!config) return 2;
  const logger = consoleLogger({ verbose: false, write: (l) => io.stderr(`${l}\n`) });
  const ctx = { clock: systemClock, logger, env: io.env, entry: 'cli' as const };
  const adapters = values.discover ? createAdapters(config, ctx) : undefined;
  const ssm = values['ssm-parameter'] ?? io.env.CERTKEEPER_CONFIG_SSM_PARAMETER;
  const { policy, grants } = await configPermissions(config, registry, {
    ...(adapters ? { discover: true, ctx: { ...ctx, lookup: adapters.lookup } } : {}),
    ...(ssm ? { ssmParameter: ssm } : {}),
  });
  io.stdout(`${JSON.stringify(policy, null, 2)}\n`);
  for (const g of grants) io.stderr(`note: ${g.where}: ${g.text}\n`);
  return 0;
}
