import {
  createGoogleCloudDnsProvider,
  type GoogleCloudDnsConfig,
  type GoogleCloudDnsDeps,
} from '../../../../src/adapters/dns/google-cloud-dns/provider.js';
import type { DnsProvider } from '../../../../src/ports/dns.js';
import { tempDir } from '../../../support/certkeeper.js';
import { fakeClock } from '../../../support/clock.js';
import {
  type ExternalAccountOptions,
  type GoogleCloudDnsFake,
  type GoogleCloudDnsFakeOptions,
  startGoogleCloudDnsFake,
  trustFakeInGoogleSdks,
} from '../../../support/fakes/google-cloud-dns.js';
import { recordingLogger } from '../../../support/logger.js';

export const PROJECT = 'certkeeper-test';

export interface GoogleSetup {
  fake: GoogleCloudDnsFake;
  dir: string;
  /** An external_account credentials file (workload identity federation) for the fake. */
  credentials(options?: ExternalAccountOptions): Promise<string>;
  /** A provider on the real SDK against the fake; a virtual clock and a recording logger unless given. */
  provider(
    config?: Partial<GoogleCloudDnsConfig>,
    deps?: Partial<GoogleCloudDnsDeps> & { credentialsFile?: string },
  ): Promise<{ provider: DnsProvider; clock: ReturnType<typeof fakeClock>; log: ReturnType<typeof recordingLogger> }>;
}

export async function googleSetup(options: Partial<GoogleCloudDnsFakeOptions> = {}): Promise<GoogleSetup> {
  await trustFakeInGoogleSdks();
  const fake = await startGoogleCloudDnsFake({
    project: PROJECT,
    zones: [{ name: 'example-com', dnsName: 'example.com.' }],
    ...options,
  });
  const dir = await tempDir('ck-gcp-');
  const defaultCredentials = await fake.externalAccountFile(dir, { impersonate: true });
  return {
    fake,
    dir,
    credentials: (o) => fake.externalAccountFile(dir, o),
    async provider(config = {}, deps = {}) {
      const clock = fakeClock(new Date());
      const log = recordingLogger();
      const { credentialsFile, ...rest } = deps;
      const provider = createGoogleCloudDnsProvider(
        {
          provider: 'google-cloud-dns',
          project: PROJECT,
          endpoint: fake.endpoint,
          ttl: 60,
          propagation: { timeoutMs: 120_000, intervalMs: 2_000 },
          ...config,
        },
        {
          clock,
          logger: log,
          env: { GOOGLE_APPLICATION_CREDENTIALS: credentialsFile ?? defaultCredentials },
          random: () => 0.5,
          ...rest,
        },
      );
      return { provider, clock, log };
    },
  };
}
