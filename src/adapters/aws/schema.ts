import * as z from 'zod';

/** Option fields shared by the AWS adapters. */

export const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { error: 'must be an IAM role ARN' })
  .meta({ description: 'IAM role to assume, e.g. "arn:aws:iam::123456789012:role/certkeeper".' });

export const region = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'must be an AWS region like "us-east-1"' })
  .meta({ description: 'AWS region, e.g. "us-east-1". Default: the standard AWS chain.' });

/** `roleArn` + `externalId`: a role assumed from the default credentials (cross-account zones, stores). */
export const assumeRoleOptions = {
  roleArn: roleArn.optional(),
  externalId: z.string().min(2).max(1224).optional().meta({ description: 'External id for the role assumption.' }),
};

/** The partition of a region, for ARNs. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
