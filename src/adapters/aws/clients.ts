import { ACMClient } from '@aws-sdk/client-acm';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type Clock, systemClock } from '../../ports/clock.js';

/** Structurally the SDK's AwsCredentialIdentity(Provider), without depending on @aws-sdk/types. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/**
 * AWS SDK clients for the adapters. This is the only place that decides how clients are built:
 * - endpoints: nothing here. SDK v3 itself honours `AWS_ENDPOINT_URL` and the per-service
 *   `AWS_ENDPOINT_URL_ROUTE_53`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_ACM`,
 *   `AWS_ENDPOINT_URL_STS` (and `endpoint_url` in the shared config file), so moto, LocalStack or a
 *   VPC endpoint work without certkeeper options (test/aws/clients.test.ts checks it);
 * - credentials: the SDK's default chain (env, OIDC web identity, ECS/Lambda role, profiles), or a
 *   role assumed from it when the config names `roleArn` (cross-account DNS or store);
 * - region: the config's, else the SDK's default chain.
 */

export type AwsService = 'route53' | 'secretsmanager' | 'acm' | 'sts' | 'events' | 'ssm';

/** One AWS API call, as IAM sees it: `service:operation` plus the request input. */
export interface AwsCall {
  service: AwsService;
  /** e.g. `ChangeResourceRecordSets` (the IAM action name). */
  operation: string;
  region: string | undefined;
  input: Record<string, unknown>;
}

export type AwsCallObserver = (call: AwsCall) => void;

export interface AwsAccess {
  region?: string | undefined;
  roleArn?: string | undefined;
  externalId?: string | undefined;
}

export interface AwsClientFactory {
  route53(access: AwsAccess): Route53Client;
  secretsManager(access: AwsAccess): SecretsManagerClient;
  acm(access: AwsAccess): ACMClient;
  eventBridge(access: AwsAccess): EventBridgeClient;
  ssm(access: AwsAccess): SSMClient;
}

export interface AwsClientFactoryOptions {
  /** Sees every call the adapters make (the IAM policy test; metrics). Never the responses. */
  onCall?: AwsCallObserver;
  clock?: Clock;
  /** Base credentials instead of the SDK's default chain (tests). */
  credentials?: AwsCredentialIdentityProvider;
  /** STS client for AssumeRole, per region (tests). */
  stsClient?: (region: string | undefined) => STSClient;
}

type AnyClient = Route53Client | SecretsManagerClient | ACMClient | STSClient | EventBridgeClient | SSMClient;

/** Adds the `onCall` observer to a client (also usable on clients built elsewhere). */
export function observeCalls(client: AnyClient, service: AwsService, onCall: AwsCallObserver): void {
  // biome-ignore lint/suspicious/noExplicitAny: the clients' stacks differ only in their input/output unions.
  (client.middlewareStack as any).add(
    (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: unknown }) => {
        let region: string | undefined;
        try {
          region = await client.config.region();
        } catch {
          region = undefined;
        }
        onCall({
          service,
          operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
          region,
          input: (args.input ?? {}) as Record<string, unknown>,
        });
        return next(args);
      },
    { step: 'initialize', name: 'certkeeperObserveCalls', override: true },
  );
}

/** Refresh assumed-role credentials this long before they expire. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * Credentials of `roleArn`, assumed with the base credentials and cached until shortly before they
 * expire. Concurrent callers share one AssumeRole request.
 */
export function assumeRoleCredentials(options: {
  sts: STSClient;
  roleArn: string;
  externalId?: string | undefined;
  sessionName: string;
  clock?: Clock;
}): AwsCredentialIdentityProvider {
  const clock = options.clock ?? systemClock;
  let cached: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  const fresh = (c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity =>
    c !== undefined && (!c.expiration || c.expiration.getTime() - clock.now().getTime() > REFRESH_BEFORE_MS);
  return async () => {
    if (fresh(cached)) return cached;
    inflight ??= (async () => {
      try {
        const out = await options.sts.send(
          new AssumeRoleCommand({
            RoleArn: options.roleArn,
            RoleSessionName: options.sessionName,
            ...(options.externalId ? { ExternalId: options.externalId } : {}),
            DurationSeconds: 3600,
          }),
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey)
          throw new Error(`sts: AssumeRole ${options.roleArn} returned no credentials`);
        cached = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        };
        return cached;
      } catch (error) {
        const e = error as Error;
        const failure = new Error(`sts: cannot assume ${options.roleArn}: ${e.name}: ${e.message}`, { cause: error });
        // The name adapters' hints know: "check the credentials chain and roleArn".
        failure.name = 'CredentialsProviderError';
        throw failure;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };
}

/**
 * Builds (and reuses) clients per service, region and role, so fifty certificates in one zone share
 * one Route 53 client, one connection pool and one set of assumed-role credentials, while the DNS
 * role and the store role stay independent.
 */
export function createAwsClientFactory(options: AwsClientFactoryOptions = {}): AwsClientFactory {
  const clients = new Map<string, AnyClient>();
  const credentials = new Map<string, AwsCredentialIdentityProvider>();

  const credentialsFor = (access: AwsAccess, purpose: string): AwsCredentialIdentityProvider | undefined => {
    if (!access.roleArn) return options.credentials;
    const key = `${access.roleArn}\0${access.externalId ?? ''}\0${access.region ?? ''}`;
    let provider = credentials.get(key);
    if (!provider) {
      const sts =
        options.stsClient?.(access.region) ??
        new STSClient({
          ...(access.region ? { region: access.region } : {}),
          ...(options.credentials ? { credentials: options.credentials } : {}),
        });
      if (options.onCall) observeCalls(sts, 'sts', options.onCall);
      provider = assumeRoleCredentials({
        sts,
        roleArn: access.roleArn,
        externalId: access.externalId,
        // Shows in CloudTrail as the assumed-role session: who did it and for what.
        sessionName: `certkeeper-${purpose}`,
        ...(options.clock ? { clock: options.clock } : {}),
      });
      credentials.set(key, provider);
    }
    return provider;
  };

  function get<T extends AnyClient>(
    service: AwsService,
    access: AwsAccess,
    build: (config: { region?: string; credentials?: AwsCredentialIdentityProvider; maxAttempts?: number }) => T,
    extra: { defaultRegion?: string; maxAttempts?: number } = {},
  ): T {
    const region = access.region ?? extra.defaultRegion;
    const key = `${service}\0${region ?? ''}\0${access.roleArn ?? ''}\0${access.externalId ?? ''}`;
    const existing = clients.get(key);
    if (existing) return existing as T;
    const creds = credentialsFor({ ...access, region }, service);
    const client = build({
      ...(region ? { region } : {}),
      ...(creds ? { credentials: creds } : {}),
      ...(extra.maxAttempts ? { maxAttempts: extra.maxAttempts } : {}),
    });
    if (options.onCall) observeCalls(client, service, options.onCall);
    clients.set(key, client);
    return client;
  }

  return {
    route53: (access) =>
      get('route53', access, (c) => new Route53Client(c), {
        // Route 53 is a global service, but the SDK insists on a region; us-east-1 is its home.
        defaultRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        // The provider retries Throttling/PriorRequestNotComplete itself with a longer, injected-clock
        // backoff; SDK retries on top would multiply the attempts and sleep for real.
        maxAttempts: 1,
      }),
    secretsManager: (access) => get('secretsmanager', access, (c) => new SecretsManagerClient(c)),
    acm: (access) => get('acm', access, (c) => new ACMClient(c)),
    eventBridge: (access) => get('events', access, (c) => new EventBridgeClient(c)),
    ssm: (access) => get('ssm', access, (c) => new SSMClient(c)),
  };
}

let shared: AwsClientFactory | undefined;

/** The process-wide factory used when an adapter is given neither a client nor a factory. */
export function defaultAwsClientFactory(): AwsClientFactory {
  shared ??= createAwsClientFactory();
  return shared;
}
