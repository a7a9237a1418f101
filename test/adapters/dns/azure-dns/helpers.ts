import type { HttpClient } from '@azure/core-rest-pipeline';
import {
  type AzureDnsConfig,
  type AzureDnsDeps,
  createAzureDnsProvider,
} from '../../../../src/adapters/dns/azure-dns/provider.js';
import type { DnsProvider } from '../../../../src/ports/dns.js';
import { tempDir } from '../../../support/certkeeper.js';
import { fakeClock } from '../../../support/clock.js';
import {
  type AzureDnsFake,
  type AzureDnsFakeOptions,
  startAzureDnsFake,
  trustingAzureHttpClient,
} from '../../../support/fakes/azure-dns.js';
import { recordingLogger } from '../../../support/logger.js';

export const SUBSCRIPTION = '6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
export const RESOURCE_GROUP = 'dns-rg';

const AZURE_ENV = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_AUTHORITY_HOST',
  'AZURE_TOKEN_CREDENTIALS',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_USERNAME',
];

/**
 * DefaultAzureCredential reads the process environment when it is built (not the injected one):
 * set exactly `env` for that moment, then put the environment back, so tests never see each other's.
 */
export function withAzureEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = new Map(AZURE_ENV.map((k) => [k, process.env[k]]));
  for (const k of AZURE_ENV) delete process.env[k];
  Object.assign(process.env, env);
  const restore = () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  let result: T;
  try {
    result = fn();
  } catch (error) {
    restore();
    throw error;
  }
  // An async factory (the descriptor's create) builds the credential after its import: wait for it.
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

export interface AzureSetup {
  fake: AzureDnsFake;
  dir: string;
  httpClient: HttpClient;
  /**
   * A provider on the real SDKs (DefaultAzureCredential) against the fake, with a virtual clock and
   * a recording logger. `credentialEnv` defaults to a federated credential (GitHub OIDC token file).
   */
  provider(
    config?: Partial<AzureDnsConfig>,
    options?: { credentialEnv?: Record<string, string>; deps?: Partial<AzureDnsDeps> },
  ): Promise<{ provider: DnsProvider; clock: ReturnType<typeof fakeClock>; log: ReturnType<typeof recordingLogger> }>;
}

export async function azureSetup(options: Partial<AzureDnsFakeOptions> = {}): Promise<AzureSetup> {
  const fake = await startAzureDnsFake({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: RESOURCE_GROUP,
    zones: [{ name: 'example.com' }],
    ...options,
  });
  const dir = await tempDir('ck-azure-');
  const httpClient = await trustingAzureHttpClient();
  const federated = await fake.federatedEnv(dir);
  return {
    fake,
    dir,
    httpClient,
    async provider(config = {}, o = {}) {
      const clock = fakeClock(new Date());
      const log = recordingLogger();
      const provider = withAzureEnv(o.credentialEnv ?? federated, () =>
        createAzureDnsProvider(
          {
            provider: 'azure-dns',
            subscriptionId: SUBSCRIPTION,
            resourceGroup: RESOURCE_GROUP,
            endpoint: fake.endpoint,
            ttl: 60,
            propagation: { timeoutMs: 120_000, intervalMs: 2_000 },
            ...config,
          },
          {
            clock,
            logger: log,
            // The fake is its own cloud: its Entra ID is the authority for its ARM endpoint.
            env: { AZURE_AUTHORITY_HOST: fake.authorityHost },
            random: () => 0.5,
            httpClient,
            ...o.deps,
          },
        ),
      );
      return { provider, clock, log };
    },
  };
}
