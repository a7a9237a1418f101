// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import * as z from 'zod';
import type { AdapterRegistry, AnyDescriptor, PermissionContext, Permissions } from '../ports/adapter.js';

/**
 * docs/adapters.md, generated from the registry (lego's `make validate-doc` idea): every DNS
 * provider, store, export and hook with its options, secrets, environment and the permissions it
 * needs. `npm run reference` writes it; a test fails when the committed file is stale.
 */

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchemaNode;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  anyOf?: JsonSchemaNode[];
  pattern?: string;
}

const KINDS: { kind: keyof Pick<AdapterRegistry, 'dns' | 'store' | 'export' | 'hook'>; title: string; tag: string }[] =
  [
    { kind: 'dns', title: 'DNS providers', tag: 'dns.provider' },
    { kind: 'store', title: 'Stores', tag: 'store.type' },
    { kind: 'export', title: 'Exports', tag: 'exports[].type' },
    { kind: 'hook', title: 'Hooks', tag: 'hooks[].type' },
  ];

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' | ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.type === 'object' && node.properties) return 'object';
  return Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One row per option; nested objects (rfc2136's `tsig`) as `tsig.name` rows. */
function optionRows(schema: JsonSchemaNode, prefix = ''): string[] {
  const rows: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const name = `${prefix}${key}`;
    const def = node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``;
    rows.push(
      `| \`${name}\` | ${cell(typeOf(node))} | ${required.has(key) ? 'yes' : ''} | ${def} | ${cell(node.description ?? '')} |`,
    );
    if (node.type === 'object' && node.properties) rows.push(...optionRows(node, `${name}.`));
  }
  return rows;
}

/** A config to ask `permissions` with: defaults applied, required text options as `<name>` placeholders. */
function exampleConfig(d: AnyDescriptor, tag: string): Record<string, unknown> {
  const placeholder = (schema: JsonSchemaNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, node] of Object.entries(schema.properties ?? {})) {
      if (node.default !== undefined) out[key] = node.default;
      else if ((schema.required ?? []).includes(key)) {
        out[key] = node.type === 'object' ? placeholder(node) : node.type === 'array' ? [`<${key}>`] : `<${key}>`;
      }
    }
    return out;
  };
  const options = placeholder(z.toJSONSchema(z.object(d.options), { io: 'input' }) as JsonSchemaNode);
  return {
    [tag]: d.name,
    ...options,
    ...(d.kind === 'dns' ? { ttl: 60, propagation: { timeoutMs: 120_000, intervalMs: 2000 } } : {}),
    ...(d.kind === 'hook' ? { on: ['renewed'] } : {}),
  };
}

const EXAMPLE_CONTEXT: PermissionContext = {
  certificate: { id: 'example-com', domains: ['example.com', '*.example.com'] },
  challengeNames: ['_acme-challenge.example.com'],
  directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
};

function permissionLines(p: Permissions): string[] {
  const out: string[] = [];
  for (const g of p.grants ?? []) out.push(`- ${g}`);
  if (p.iam?.length) {
    out.push(
      '',
      'IAM, for the example certificate `example-com` (`certkeeper iam-policy -c <config>` prints the policy of your config):',
      '',
      '```json',
      JSON.stringify(p.iam, null, 2),
      '```',
    );
  }
  return out;
}

export async function adapterReference(registry: AdapterRegistry): Promise<string> {
  const lines: string[] = [
    '<!-- Generated from the adapter descriptors by `npm run reference` (src/adapters/reference.ts). Do not edit. -->',
    '',
    '# Adapter reference',
    '',
    'Every adapter certkeeper has, as its descriptor declares it: the config options, which of them are',
    'credentials (only ever `${env:NAME}` references for DNS providers, masked in the Action, never printed),',
    'the environment it reads, and what it needs granted.',
    '',
  ];
  for (const { kind, title } of KINDS)
    lines.push(
      `- ${title}: ${registry[kind].map((d) => `[\`${d.name}\`](#${kind}-${d.name.replace(/\./g, '')})`).join(', ')}`,
    );
  lines.push('');
  for (const { kind, title, tag } of KINDS) {
    lines.push(`## ${title}`, '');
    for (const d of registry[kind] as readonly AnyDescriptor[]) {
      const key = tag.split('.').pop() as string;
      lines.push(
        `<a id="${kind}-${d.name.replace(/\./g, '')}"></a>`,
        `### \`${tag.replace('[]', '')}: ${d.name}\``,
        '',
        d.doc,
        '',
      );
      const schema = z.toJSONSchema(z.object(d.options), { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
      const rows = optionRows(schema);
      if (rows.length) {
        lines.push('| option | type | required | default | description |', '|---|---|---|---|---|', ...rows, '');
      } else {
        lines.push('No options of its own.', '');
      }
      if (kind === 'dns') {
        lines.push(
          'Common to every DNS provider: `ttl`, `propagation: { resolvers, timeout, interval }`, `challengeAlias`.',
          '',
        );
      }
      if (kind === 'hook')
        lines.push('Common to every hook: `on` (`renewed`, `failed`, `warning`; default `[renewed]`).', '');
      if (d.secrets.length) lines.push(`Credentials: ${d.secrets.map((s) => `\`${s}\``).join(', ')}.`, '');
      if (d.secretEnv?.length)
        lines.push(`Reads from the environment (masked): ${d.secretEnv.map((s) => `\`${s}\``).join(', ')}.`, '');
      if (d.shortcutEnv && Object.keys(d.shortcutEnv).length) {
        lines.push(
          `Action shortcut (\`dns-provider: ${d.name}\`) fills: ${Object.entries(d.shortcutEnv)
            .map(([option, env]) => `\`${option}\` ← \`${env}\``)
            .join(', ')}.`,
          '',
        );
      }
      if (d.entryPoints) lines.push(`Runs only from: ${d.entryPoints.join(', ')}.`, '');
      const config = exampleConfig(d, key);
      const permissions = await (
        d.permissions as (c: unknown, ctx: PermissionContext) => Permissions | Promise<Permissions>
      )(config, EXAMPLE_CONTEXT);
      const store = d.kind === 'store' ? d.accountPermissions?.(config as never, EXAMPLE_CONTEXT) : undefined;
      const merged: Permissions = {
        ...(permissions.grants ? { grants: permissions.grants } : {}),
        iam: [...(permissions.iam ?? []), ...(store?.iam ?? [])],
      };
      lines.push('**Permissions:**', '', ...permissionLines(merged), '');
    }
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
