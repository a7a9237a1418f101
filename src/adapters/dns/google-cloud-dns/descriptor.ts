import * as z from 'zod';
import type { DnsDescriptor } from '../../../ports/adapter.js';

/** Project ids: 6–30 of lowercase letters, digits, hyphens, from a letter; legacy ones carry a `domain:` prefix. */
const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Managed zone names (1–63 of lowercase letters, digits, hyphens, from a letter), or the numeric zone id. */
const MANAGED_ZONE = /^(?:[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?|[0-9]{1,20})$/;

/** https only, loopback included: the SDK sends its bearer token there. */
const httpsUrl = z.string().refine(
  (s) => {
    try {
      return new URL(s).protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'endpoint must be an https URL' },
);

const options = {
  project: z
    .string()
    .regex(PROJECT_ID, 'a Google Cloud project id: 6–30 lowercase letters, digits and hyphens, starting with a letter')
    .meta({ description: 'The Google Cloud project (id) that holds the managed zone.' }),
  managedZone: z
    .string()
    .regex(
      MANAGED_ZONE,
      'a managed zone name (lowercase letters, digits and hyphens, starting with a letter) or its id',
    )
    .optional()
    .meta({
      description:
        'The managed zone (name or id); default the public zone whose DNS name is the longest suffix of the record name.',
    }),
  endpoint: httpsUrl
    .optional()
    .meta({ description: 'Cloud DNS API base URL (default https://dns.googleapis.com), e.g. a private endpoint.' }),
};

const permissionsNeeded = (managedZone: string | undefined) => [
  'dns.changes.create',
  'dns.changes.get',
  'dns.resourceRecordSets.list',
  'dns.resourceRecordSets.create',
  'dns.resourceRecordSets.update',
  'dns.resourceRecordSets.delete',
  managedZone ? 'dns.managedZones.get' : 'dns.managedZones.list',
];

export const googleCloudDns: DnsDescriptor<typeof options> = {
  kind: 'dns',
  name: 'google-cloud-dns',
  doc:
    'Google Cloud DNS through the Cloud DNS API (the `@google-cloud/dns` SDK). The managed zone is the public ' +
    'zone of `project` whose DNS name is the longest suffix of the record name, unless `managedZone` names one ' +
    '(private zones only that way). Each write is one Change that deletes the TXT rrset as read and adds the ' +
    'merged one, so apex and wildcard values merge and a concurrent writer is detected (412/409) and re-read; ' +
    'a present waits until the Change is `done`. Credentials are Application Default Credentials: ' +
    '`GOOGLE_APPLICATION_CREDENTIALS` (in GitHub Actions, `google-github-actions/auth` with workload identity ' +
    'federation writes an `external_account` file), or the attached service account on Google Cloud. `endpoint` ' +
    'overrides the API base URL (private endpoints).',
  options,
  secrets: [],
  // What google-github-actions/auth exports when it is given a project.
  shortcutEnv: { project: 'GOOGLE_CLOUD_PROJECT' },
  permissions(config) {
    const where = config.managedZone
      ? `the managed zone ${config.managedZone} of project ${config.project}`
      : `project ${config.project}`;
    return {
      grants: [
        `roles/dns.admin on ${where}, or (least privilege) a custom role with ${permissionsNeeded(config.managedZone).join(', ')}` +
          (config.managedZone ? '' : ' on the project (dns.managedZones.list is checked at the project)'),
        'with workload identity federation: the pool principal itself, or the service account it impersonates with roles/iam.workloadIdentityUser granted to the principal',
      ],
    };
  },
  async create(config, ctx) {
    const { createGoogleCloudDnsProvider } = await import('./provider.js');
    return createGoogleCloudDnsProvider(config, ctx);
  },
};
