import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { googleCloudDns as d } from '../../../../src/adapters/dns/google-cloud-dns/descriptor.js';
import { challengeValue } from '../../../contract/dns-provider.js';
import { fakeClock } from '../../../support/clock.js';
import { recordingLogger } from '../../../support/logger.js';
import { type GoogleSetup, googleSetup, PROJECT } from './helpers.js';

/** The descriptor: option shapes (bad input is a config issue before any network), permissions, lazy create. */

const parse = (options: Record<string, unknown>) => {
  const r = z.object(d.options).strict().safeParse(options);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};
const common = { provider: 'google-cloud-dns', ttl: 60, propagation: { timeoutMs: 30_000, intervalMs: 1_000 } };

describe('google-cloud-dns options', () => {
  it('accepts project ids (also legacy domain-scoped ones), zone names or ids, an https endpoint', () => {
    expect(parse({ project: 'my-project-123' })).toEqual([]);
    expect(parse({ project: 'example.com:my-project', managedZone: 'example-com' })).toEqual([]);
    expect(
      parse({ project: 'my-project', managedZone: '1234567890123', endpoint: 'https://dns.example.internal:8443' }),
    ).toEqual([]);
  });

  it.each([
    [{ project: 'My_Project' }, 'project', /Google Cloud project id/],
    [{ project: 'abc' }, 'project', /6–30 lowercase/],
    [{ project: '1project' }, 'project', /starting with a letter/],
    [{}, 'project', /expected string/i],
    [{ project: 'my-project', managedZone: 'Example.com' }, 'managedZone', /managed zone name/],
    [{ project: 'my-project', endpoint: 'http://dns.googleapis.com' }, 'endpoint', /^endpoint must be an https URL$/],
    [{ project: 'my-project', endpoint: 'dns.googleapis.com' }, 'endpoint', /^endpoint must be an https URL$/],
    [{ project: 'my-project', zone: 'x' }, '', /unrecognized key/i],
  ])('refuses %j at %s', (options, path, message) => {
    const issues = parse(options);
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('takes no secrets in the config (credentials come from Application Default Credentials)', () => {
    expect(d.secrets).toEqual([]);
  });
});

describe('google-cloud-dns permissions', () => {
  const ctx = {
    certificate: { id: 'site', domains: ['example.com'] },
    challengeNames: ['_acme-challenge.example.com'],
    directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
  };

  it('names roles/dns.admin and the exact permissions of a least-privilege custom role', async () => {
    const p = await d.permissions({ ...common, project: 'my-project' }, ctx);
    expect(p.iam).toBeUndefined();
    expect(p.grants?.[0]).toBe(
      'roles/dns.admin on project my-project, or (least privilege) a custom role with dns.changes.create, dns.changes.get, ' +
        'dns.resourceRecordSets.list, dns.resourceRecordSets.create, dns.resourceRecordSets.update, dns.resourceRecordSets.delete, ' +
        'dns.managedZones.list on the project (dns.managedZones.list is checked at the project)',
    );
    expect(p.grants?.[1]).toMatch(/roles\/iam\.workloadIdentityUser/);
  });

  it('with a named managed zone: the zone and dns.managedZones.get', async () => {
    const p = await d.permissions({ ...common, project: 'my-project', managedZone: 'example-com' }, ctx);
    expect(p.grants?.[0]).toMatch(
      /^roles\/dns\.admin on the managed zone example-com of project my-project, .*dns\.managedZones\.get$/,
    );
  });
});

describe('google-cloud-dns create', () => {
  let g: GoogleSetup;
  beforeAll(async () => {
    g = await googleSetup();
  });
  afterAll(async () => {
    await g?.fake.stop();
  });

  it('create builds the provider without any network call; it writes on present', async () => {
    const credentials = await g.credentials();
    const provider = await d.create(
      { ...common, project: PROJECT, endpoint: g.fake.endpoint },
      {
        clock: fakeClock(new Date()),
        logger: recordingLogger(),
        env: { GOOGLE_APPLICATION_CREDENTIALS: credentials },
        entry: 'cli',
        lookup: {} as never,
      },
    );
    expect(provider.name).toBe('google-cloud-dns');
    expect(g.fake.calls).toEqual([]);
    const name = '_acme-challenge.lazy.example.com';
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(g.fake.txtValues(name)).toEqual([value]);
    await provider.cleanup([{ name, value }]);
  });
});
