import type { AwsCall } from '../../src/adapters/aws/clients.js';

/**
 * A small IAM policy evaluator: enough of IAM to check that the example policy allows every call
 * the adapters make and denies what it should. Action/Resource wildcards, explicit Deny over
 * Allow, and the String condition operators with ForAnyValue/ForAllValues (AWS semantics for
 * missing keys: positive operators fail, negated operators and ForAllValues pass).
 */

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Policy {
  Version: string;
  Statement: Statement[];
}

export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

function conditionHolds(operator: string, key: string, expected: string[], context: IamRequest['context']): boolean {
  const [qualifier, op] = operator.includes(':') ? (operator.split(':') as [string, string]) : ['', operator];
  const negated = op.startsWith('StringNot');
  const like = op.endsWith('Like');
  const one = (value: string) => expected.some((e) => (like ? wildcard(e, value) : e === value)) !== negated;
  const present = context[key];
  if (present === undefined) {
    if (qualifier === 'ForAllValues') return true;
    if (qualifier === 'ForAnyValue') return false;
    return negated;
  }
  const values = list(present);
  if (qualifier === 'ForAllValues') return values.every(one);
  if (qualifier === 'ForAnyValue') return values.some(one);
  if (values.length !== 1) throw new Error(`${key} is multivalued: use ForAnyValue/ForAllValues with ${op}`);
  return one(values[0] as string);
}

function statementMatches(s: Statement, r: IamRequest): boolean {
  if (!list(s.Action).some((a) => wildcard(a, r.action, true))) return false;
  if (!list(s.Resource).some((p) => wildcard(p, r.resource))) return false;
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    if (!/^(ForAnyValue:|ForAllValues:)?String(Not)?(Equals|Like)$/.test(operator)) {
      throw new Error(`condition operator ${operator} is not supported by this evaluator`);
    }
    for (const [key, expected] of Object.entries(keys)) {
      if (!conditionHolds(operator, key, list(expected), r.context)) return false;
    }
  }
  return true;
}

export function evaluate(policy: Policy, r: IamRequest): 'allow' | 'explicit-deny' | 'implicit-deny' {
  const matching = policy.Statement.filter((s) => statementMatches(s, r));
  if (matching.some((s) => s.Effect === 'Deny')) return 'explicit-deny';
  return matching.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}

const ACCOUNT = '123456789012';

function secretArn(idOrName: string, region: string): string {
  // A name resolves to the ARN with Secrets Manager's random 6-character suffix.
  return idOrName.startsWith('arn:')
    ? idOrName
    : `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${idOrName}-AbC123`;
}

/** The IAM request(s) one SDK call amounts to (some calls need two permissions). */
export function requestsFor(call: AwsCall): IamRequest[] {
  const input = call.input;
  const region = call.region ?? 'us-east-1';
  const str = (k: string) => (typeof input[k] === 'string' ? (input[k] as string) : '');
  const action = `${call.service}:${call.operation}`;
  switch (call.service) {
    case 'route53': {
      const zone = `arn:aws:route53:::hostedzone/${str('HostedZoneId').replace(/^\/hostedzone\//, '')}`;
      switch (call.operation) {
        case 'ListHostedZonesByName':
          return [{ action, resource: '*', context: {} }];
        case 'GetHostedZone':
          return [
            {
              action,
              resource: `arn:aws:route53:::hostedzone/${str('Id').replace(/^\/hostedzone\//, '')}`,
              context: {},
            },
          ];
        case 'GetChange':
          return [
            { action, resource: `arn:aws:route53:::change/${str('Id').replace(/^\/change\//, '')}`, context: {} },
          ];
        case 'ListResourceRecordSets':
          return [{ action, resource: zone, context: {} }];
        case 'ChangeResourceRecordSets': {
          const changes =
            (input.ChangeBatch as { Changes?: { Action: string; ResourceRecordSet: { Name: string; Type: string } }[] })
              ?.Changes ?? [];
          return [
            {
              action,
              resource: zone,
              context: {
                // As IAM normalizes them: lowercase, no trailing dot, '*' as \052.
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': changes.map((c) =>
                  c.ResourceRecordSet.Name.toLowerCase().replace(/\.$/, '').replace(/\*/g, '\\052'),
                ),
                'route53:ChangeResourceRecordSetsRecordTypes': changes.map((c) => c.ResourceRecordSet.Type),
                'route53:ChangeResourceRecordSetsActions': changes.map((c) => c.Action),
              },
            },
          ];
        }
        default:
          return [{ action, resource: '*', context: {} }];
      }
    }
    case 'secretsmanager': {
      const arn = secretArn(str('SecretId') || str('Name'), region);
      const out: IamRequest[] = [{ action, resource: arn, context: {} }];
      // CreateSecret with tags also needs TagResource (Secrets Manager docs).
      if (call.operation === 'CreateSecret' && Array.isArray(input.Tags) && input.Tags.length > 0) {
        out.push({ action: 'secretsmanager:TagResource', resource: arn, context: {} });
      }
      return out;
    }
    case 'acm': {
      const arn = str('CertificateArn') || `arn:aws:acm:${region}:${ACCOUNT}:certificate/new-certificate-id`;
      const out: IamRequest[] = [{ action, resource: arn, context: {} }];
      if (call.operation === 'ImportCertificate' && Array.isArray(input.Tags) && input.Tags.length > 0) {
        out.push({ action: 'acm:AddTagsToCertificate', resource: arn, context: {} });
      }
      return out;
    }
    case 'events': {
      const bus = str('EventBusName') || 'default';
      const entries = (input.Entries as { Source?: string; EventBusName?: string }[] | undefined) ?? [];
      return entries.map((e) => ({
        action,
        resource: (e.EventBusName ?? bus).startsWith('arn:')
          ? (e.EventBusName ?? bus)
          : `arn:aws:events:${region}:${ACCOUNT}:event-bus/${e.EventBusName ?? bus}`,
        context: { 'events:source': e.Source ?? '' },
      }));
    }
    case 'ssm':
      return [
        {
          action,
          resource: `arn:aws:ssm:${region}:${ACCOUNT}:parameter/${str('Name').replace(/^\//, '')}`,
          context: {},
        },
      ];
    case 'sts':
      // sts:AssumeRole is granted by the role's trust policy and the caller's own permissions,
      // not by the policy certkeeper's role carries.
      return [];
  }
}
