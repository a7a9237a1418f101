import * as z from 'zod';
import type { IamStatement, OptionsOf, Permissions, StoreDescriptor } from '../../../ports/adapter.js';
import { accountName } from '../../../ports/store.js';
import { assumeRoleOptions, partitionOf, region } from '../../aws/schema.js';

const options = {
  secretId: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,507}$/, { error: 'must be a secret name of letters, digits and /_+=.@-' })
    .optional()
    .meta({ description: 'Secret name. Default: certkeeper/<id>.' }),
  kmsKeyId: z.string().min(1).optional().meta({ description: 'KMS key (id, ARN or alias) for the secret.' }),
  region: region.optional(),
  tags: z
    .record(z.string().min(1).max(128), z.string().max(256))
    .optional()
    .meta({ description: 'Extra tags for the secret.' }),
  ...assumeRoleOptions,
};

export type SecretsManagerStoreConfig = OptionsOf<typeof options> & { type: string };

/** Secret names resolve to ARNs with a random 6-character suffix. */
function secretArn(config: SecretsManagerStoreConfig, name: string): string {
  return `arn:${partitionOf(config.region)}:secretsmanager:${config.region ?? '*'}:*:secret:${name}-??????`;
}

const SECRET_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:CreateSecret',
  'secretsmanager:TagResource',
];

function kmsStatements(config: SecretsManagerStoreConfig): IamStatement[] {
  if (!config.kmsKeyId) return [];
  const arnLike = config.kmsKeyId.startsWith('arn:') && config.kmsKeyId.includes(':key/');
  return [
    {
      Sid: 'KmsForCertificateSecrets',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: arnLike ? config.kmsKeyId : `arn:${partitionOf(config.region)}:kms:${config.region ?? '*'}:*:key/*`,
      // Only through Secrets Manager: the key cannot be used directly with these credentials.
      Condition: { StringLike: { 'kms:ViaService': `secretsmanager.${config.region ?? '*'}.amazonaws.com` } },
    },
  ];
}

export const awsSecretsManager: StoreDescriptor<typeof options> = {
  kind: 'store',
  name: 'aws-secrets-manager',
  doc:
    'AWS Secrets Manager, one secret per certificate holding the certkeeper/v1 JSON; each renewal is a new version ' +
    '(AWSCURRENT, the previous one AWSPREVIOUS for rollback) with a ClientRequestToken derived from the serial, ' +
    'so a retried write is idempotent. Tags `certkeeper:not-after` and `certkeeper:domains`. The lease is a ' +
    '`<secretId>.lock` secret made with CreateSecret; the ACME account is `certkeeper/account/<host>`.',
  options,
  secrets: [],
  permissions(config, ctx): Permissions {
    const secretId = config.secretId ?? `certkeeper/${ctx.certificate.id}`;
    return {
      iam: [
        {
          Sid: 'SecretsManagerCertificateSecrets',
          Effect: 'Allow',
          // DescribeSecret: the renewal state (failure backoff, the ARI window) is kept in its tags.
          Action: [...SECRET_ACTIONS, 'secretsmanager:DescribeSecret'],
          Resource: [secretArn(config, secretId)],
        },
        {
          Sid: 'SecretsManagerRenewalLeases',
          Effect: 'Allow',
          Action: [...SECRET_ACTIONS, 'secretsmanager:DeleteSecret'],
          Resource: [secretArn(config, `${secretId}.lock`)],
        },
        ...kmsStatements(config),
      ],
    };
  },
  accountPermissions(config, ctx): Permissions {
    return {
      iam: [
        {
          Sid: 'SecretsManagerAcmeAccount',
          Effect: 'Allow',
          Action: SECRET_ACTIONS,
          // The account, and the order budget's ledger beside it (acme.orderBudget).
          Resource: [
            secretArn(config, `certkeeper/account/${accountName(ctx.directoryUrl)}`),
            secretArn(config, `certkeeper/account/${accountName(ctx.directoryUrl)}.orders`),
          ],
        },
      ],
    };
  },
  async create(config, certificateId, ctx) {
    const [{ createSecretsManagerStore }, { awsClients }] = await Promise.all([
      import('./store.js'),
      import('../../aws/services.js'),
    ]);
    return createSecretsManagerStore(certificateId, config, {
      clock: ctx.clock,
      logger: ctx.logger,
      clients: awsClients(ctx),
    });
  },
  async accountStore(config, ctx) {
    const [{ createSecretsManagerAccountStore }, { awsClients }] = await Promise.all([
      import('./account.js'),
      import('../../aws/services.js'),
    ]);
    return createSecretsManagerAccountStore(config, { clock: ctx.clock, logger: ctx.logger, clients: awsClients(ctx) });
  },
};
