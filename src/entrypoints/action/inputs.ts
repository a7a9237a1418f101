import { registry as defaultRegistry } from '../../adapters/registry.js';
import { normalizeDomain } from '../../core/domains.js';
import type { FailOn } from '../../core/results.js';
import { parseShard, type Shard } from '../../core/shard.js';
import type { AdapterRegistry } from '../../ports/adapter.js';
import { ConfigError, type ConfigIssue } from '../../ports/errors.js';

/** Reads one input as the runner passes it (`INPUT_<NAME>`, hyphens kept); @actions/core's getInput in practice. */
export type GetInput = (name: string) => string;

/** The Action's `command` input (PRODUCT §4). */
export const COMMANDS = ['run', 'plan', 'doctor', 'report'] as const;
export type ActionCommand = (typeof COMMANDS)[number];

export interface ActionInputs {
  command: ActionCommand;
  config: string;
  dryRun: boolean;
  force: boolean;
  only: string[];
  failOn: FailOn;
  /** `shard: i/N`: only the certificates whose id hashes into shard i of N (PRODUCT §8). */
  shard?: Shard;
  shortcut: Shortcut;
}

/** The one-certificate inputs, used when the config file does not exist. */
export interface Shortcut {
  id: string;
  domains: string[];
  email: string;
  acmeDirectory: string;
  dnsProvider: string;
  hostedZoneId: string;
  secretId: string;
  renewBefore: string;
  keyType: string;
}

/** Inputs without a default in action.yml: set only when the user set them. */
export const SHORTCUT_ONLY_INPUTS = ['domains', 'id', 'email', 'hosted-zone-id', 'secret-id'] as const;

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE', ''];

/**
 * Usage errors are reported like config errors (exit 2), each naming its input. The YAML 1.2
 * core-schema booleans are what @actions/core's getBooleanInput accepts; an empty value is false
 * so that running the bundle without the runner's defaults still works.
 */
export function readInputs(get: GetInput): ActionInputs {
  const issues: ConfigIssue[] = [];
  const bool = (name: string): boolean => {
    const v = get(name);
    if (TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    issues.push({ path: `input ${name}`, message: `must be true or false, not "${v}"` });
    return false;
  };
  const failOn = (get('fail-on') || 'error') as FailOn;
  if (!['error', 'warning', 'never'].includes(failOn)) {
    issues.push({ path: 'input fail-on', message: `must be error, warning or never, not "${failOn}"` });
  }
  const command = (get('command') || 'run') as ActionCommand;
  if (!COMMANDS.includes(command)) {
    issues.push({ path: 'input command', message: `must be one of ${COMMANDS.join(', ')}, not "${command}"` });
  }
  let shard: Shard | undefined;
  try {
    if (get('shard')) shard = parseShard(get('shard'), 'input shard');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  const inputs: ActionInputs = {
    command,
    config: get('config') || 'certkeeper.yml',
    // `plan` is a dry run by another name, as in the CLI.
    dryRun: bool('dry-run') || command === 'plan',
    force: bool('force'),
    only: list(get('only')),
    failOn,
    ...(shard ? { shard } : {}),
    shortcut: {
      id: get('id'),
      domains: list(get('domains')),
      email: get('email'),
      acmeDirectory: get('acme-directory'),
      dnsProvider: get('dns-provider'),
      hostedZoneId: get('hosted-zone-id'),
      secretId: get('secret-id'),
      renewBefore: get('renew-before'),
      keyType: get('key-type'),
    },
  };
  if (issues.length) throw new ConfigError(issues);
  return inputs;
}

/** Comma-, space- or newline-separated (a YAML block scalar in `with:` gives newlines). */
function list(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `*.example.com` → `example-com`: the id the shortcut's certificate gets unless `id` is set. */
export function idFromDomain(domain: string): string {
  const normalized = normalizeDomain(domain);
  // An IDN becomes its punycode form, so the id stays within [a-z0-9._-].
  const id = (normalized.ok ? normalized.value : domain.toLowerCase())
    .replace(/^\*\./, '')
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\./g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return id || 'certificate';
}

/**
 * The shortcut inputs as a raw config, so they take the same validation path as a file
 * (PRODUCT §2). Secrets Manager is the store: a runner's disk is gone when the job ends.
 */
export function shortcutConfig(s: Shortcut, registry: AdapterRegistry = defaultRegistry): Record<string, unknown> {
  const first = s.domains[0];
  const provider = s.dnsProvider || 'route53';
  const dns: Record<string, unknown> = { provider };
  // Route 53's option; with another provider the config check names the input as unknown.
  if (s.hostedZoneId) dns.hostedZoneId = s.hostedZoneId;
  // Each provider's credentials and settings from the job's environment, as `${env:…}` references,
  // so they take the one validation path, are masked, and a missing variable is named.
  for (const [path, name] of Object.entries(registry.dns.find((d) => d.name === provider)?.shortcutEnv ?? {})) {
    const keys = path.split('.');
    let at = dns;
    for (const key of keys.slice(0, -1)) {
      at[key] ??= {};
      at = at[key] as Record<string, unknown>;
    }
    at[keys[keys.length - 1] as string] = `\${env:${name}}`;
  }
  const store: Record<string, unknown> = { type: 'aws-secrets-manager' };
  if (s.secretId) store.secretId = s.secretId;
  return {
    version: 1,
    acme: {
      directory: s.acmeDirectory || 'letsencrypt',
      ...(s.email ? { email: s.email } : {}),
    },
    ...(s.renewBefore ? { renewal: { renewBefore: s.renewBefore } } : {}),
    certificates: [
      {
        id: s.id || (first ? idFromDomain(first) : 'certificate'),
        domains: s.domains,
        ...(s.keyType ? { keyType: s.keyType } : {}),
        dns,
        store,
      },
    ],
  };
}

/** Config paths of the shortcut's raw config → the input the value came from. Longest prefix first. */
const INPUT_OF: [string, string][] = [
  ['certificates[0].dns.hostedZoneId', 'hosted-zone-id'],
  ['certificates[0].dns.provider', 'dns-provider'],
  ['certificates[0].dns', 'dns-provider'],
  ['certificates[0].store.secretId', 'secret-id'],
  ['certificates[0].domains', 'domains'],
  ['certificates[0].keyType', 'key-type'],
  ['certificates[0].id', 'id'],
  ['renewal.renewBefore', 'renew-before'],
  ['acme.directory', 'acme-directory'],
  ['acme.email', 'email'],
];

/** Renames issue paths of a shortcut config to the inputs the user actually wrote. */
export function shortcutIssues(error: ConfigError): ConfigError {
  return new ConfigError(
    error.issues.map((issue) => {
      for (const [prefix, input] of INPUT_OF) {
        if (issue.path === prefix || issue.path.startsWith(`${prefix}[`) || issue.path.startsWith(`${prefix}.`)) {
          const message =
            input === 'hosted-zone-id' && issue.message === 'unknown key'
              ? 'only for dns-provider route53 (a Route 53 hosted zone id)'
              : issue.message;
          return { path: `input ${input}${issue.path.slice(prefix.length)}`, message };
        }
      }
      return issue;
    }),
    { cause: error },
  );
}
