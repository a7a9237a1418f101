import * as z from 'zod';
import type { ExportDescriptor, OptionsOf } from '../../../ports/adapter.js';
import { assumeRoleOptions, partitionOf, region } from '../../aws/schema.js';

const options = {
  certificateArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/, { error: 'must be an ACM certificate ARN' })
    .optional()
    .meta({ description: 'Re-import into this ARN. Default: the ARN remembered from the last import.' }),
  region: region.optional(),
  ...assumeRoleOptions,
};

export type AcmExportConfig = OptionsOf<typeof options> & { type: string };

export const awsAcm: ExportDescriptor<typeof options> = {
  kind: 'export',
  name: 'aws-acm',
  doc:
    'Imports the certificate into AWS Certificate Manager, re-importing into the same ARN every time (remembered ' +
    'in the stored metadata) so ALB listeners and CloudFront distributions keep using it without a change. ' +
    'CloudFront only uses certificates in us-east-1.',
  options,
  secrets: [],
  permissions(config) {
    const resource =
      config.certificateArn ?? `arn:${partitionOf(config.region)}:acm:${config.region ?? '*'}:*:certificate/*`;
    return {
      iam: [
        {
          Sid: 'AcmImportCertificates',
          Effect: 'Allow',
          // A first import creates the ARN, so with no ARN configured the resource is a wildcard.
          Action: ['acm:ImportCertificate', 'acm:AddTagsToCertificate'],
          Resource: resource,
        },
      ],
    };
  },
  async create(config, ctx) {
    const [{ createAcmExporter }, { awsClients }] = await Promise.all([
      import('./exporter.js'),
      import('../../aws/services.js'),
    ]);
    return createAcmExporter(config, { clock: ctx.clock, logger: ctx.logger, clients: awsClients(ctx) });
  },
};
