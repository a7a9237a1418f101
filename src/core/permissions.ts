import type {
  AdapterContext,
  AdapterRegistry,
  AnyDescriptor,
  IamStatement,
  PermissionContext,
} from '../ports/adapter.js';
import type { Config } from '../ports/config.js';
import { challengeRecordName } from './domains.js';

/**
 * What a config needs granted, from the descriptors (`certkeeper iam-policy`): each adapter's
 * statements for exactly its certificate (its record names, its secret ids), merged into one
 * least-privilege IAM policy, plus the non-AWS grants in the vendors' words.
 */

export interface IamPolicy {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

export interface Grant {
  /** `certificates[2].dns (cloudflare)` */
  where: string;
  text: string;
}

export interface ConfigPermissions {
  policy: IamPolicy;
  grants: Grant[];
}

export interface PermissionOptions {
  /** Look up what the config leaves to discovery (e.g. hosted zone ids), with these adapters' credentials. */
  discover?: boolean;
  ctx?: AdapterContext;
  /** The SSM parameter a Lambda reads its config from (`CERTKEEPER_CONFIG_SSM_PARAMETER`). */
  ssmParameter?: string;
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/**
 * Statements with the same Sid, effect, actions and condition keys are one statement: their
 * resources and condition values are joined. That keeps one Deny covering every certificate's
 * record names (a Deny per certificate would refuse the others' names) and one Allow per purpose.
 */
export function mergeStatements(statements: IamStatement[]): IamStatement[] {
  const out = new Map<string, IamStatement>();
  for (const s of statements) {
    const conditionShape = Object.entries(s.Condition ?? {})
      .map(([op, keys]) => `${op}:${Object.keys(keys).sort().join(',')}`)
      .sort()
      .join(';');
    const key = [s.Sid ?? '', s.Effect, [...s.Action].sort().join(','), conditionShape].join('|');
    const seen = out.get(key);
    if (!seen) {
      out.set(key, {
        ...s,
        Action: [...new Set(s.Action)].sort(),
        Resource: list(s.Resource),
        ...(s.Condition ? { Condition: structuredClone(s.Condition) } : {}),
      });
      continue;
    }
    seen.Resource = [...new Set([...list(seen.Resource), ...list(s.Resource)])];
    for (const [op, keys] of Object.entries(s.Condition ?? {})) {
      for (const [k, v] of Object.entries(keys)) {
        const target = (seen.Condition as Record<string, Record<string, string | string[]>>)[op] as Record<
          string,
          string | string[]
        >;
        const joined = [...new Set([...list(target[k] as string | string[]), ...list(v)])].sort();
        target[k] = joined.length === 1 ? (joined[0] as string) : joined;
      }
    }
  }
  // A wildcard resource makes the named ones redundant.
  return [...out.values()].map((s) => {
    const resources = list(s.Resource).sort();
    const wildcard = resources.filter((r) => r === '*' || r.endsWith('/*'));
    const kept = resources.filter((r) => !wildcard.some((w) => w !== r && (w === '*' || r.startsWith(w.slice(0, -1)))));
    return { ...s, Resource: kept.length === 1 ? (kept[0] as string) : kept };
  });
}

function find<D extends AnyDescriptor>(list: readonly D[], name: string): D | undefined {
  return list.find((d) => d.name === name);
}

export async function configPermissions(
  config: Config,
  registry: AdapterRegistry,
  options: PermissionOptions = {},
): Promise<ConfigPermissions> {
  const statements: IamStatement[] = [];
  const grants: Grant[] = [];
  const add = async (
    where: string,
    d: AnyDescriptor | undefined,
    value: Record<string, unknown>,
    pctx: PermissionContext,
  ) => {
    if (!d) return;
    const p = await (d.permissions as (c: unknown, ctx: PermissionContext) => ReturnType<AnyDescriptor['permissions']>)(
      value,
      pctx,
    );
    statements.push(...(p.iam ?? []));
    for (const text of p.grants ?? []) grants.push({ where: `${where} (${d.name})`, text });
  };
  for (const [i, cert] of config.certificates.entries()) {
    const pctx: PermissionContext = {
      certificate: { id: cert.id, domains: cert.domains },
      challengeNames: [...new Set(cert.domains.map((d) => challengeRecordName(d, cert.dns.challengeAlias)))],
      directoryUrl: config.acme.directoryUrl,
      ...(options.discover ? { discover: true } : {}),
      ...(options.ctx ? { ctx: options.ctx } : {}),
    };
    const at = `certificates[${i}]`;
    await add(`${at}.dns`, find(registry.dns, cert.dns.provider), cert.dns, pctx);
    await add(`${at}.store`, find(registry.store, cert.store.type), cert.store, pctx);
    for (const [j, e] of cert.exports.entries())
      await add(`${at}.exports[${j}]`, find(registry.export, e.type), e, pctx);
    for (const [j, h] of cert.hooks.entries()) await add(`${at}.hooks[${j}]`, find(registry.hook, h.type), h, pctx);
    if (i === 0) {
      // The ACME account lives in the first certificate's store kind (PRODUCT §2).
      const store = find(registry.store, cert.store.type);
      const account = store?.accountPermissions?.(cert.store as never, pctx);
      statements.push(...(account?.iam ?? []));
    }
  }
  if (options.ssmParameter) {
    const name = options.ssmParameter.replace(/^\//, '');
    statements.push({
      Sid: 'SsmReadConfig',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: options.ssmParameter.startsWith('arn:') ? options.ssmParameter : `arn:aws:ssm:*:*:parameter/${name}`,
    });
  }
  return { policy: { Version: '2012-10-17', Statement: mergeStatements(statements) }, grants };
}
