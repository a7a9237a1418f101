import type * as z from 'zod';
import type { Clock } from './clock.js';
import type { CertificateConfig, DnsCommon, HookCommon } from './config.js';
import type { DnsLookup, DnsProvider } from './dns.js';
import type { ConfigIssue } from './errors.js';
import type { CertificateExporter } from './exporter.js';
import type { DeployHook } from './hooks.js';
import type { Logger } from './logger.js';
import type { AccountStore, CertificateStore } from './store.js';

/**
 * Adapters describe themselves (STYLE §11, lego's `providers/dns/<name>/<name>.toml`): one
 * descriptor per adapter, one array per kind in `src/adapters/registry.ts`. Everything that lists
 * adapters derives from those arrays: the config unions and defaults, the JSON Schema, the Action's
 * masking, the generated reference, `certkeeper iam-policy`. The core sees descriptors only through
 * `AdapterSchemas` (names, option schemas, secrets) and instances only through `AdapterFactory`.
 */

export type AdapterKind = 'dns' | 'store' | 'export' | 'hook';
export type EntryPoint = 'cli' | 'github-action' | 'lambda';
/** The environment as adapters read it; injected so tests and the Lambda need not touch process.env. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One IAM policy statement (AWS adapters). */
export interface IamStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** What an adapter needs granted for one config. */
export interface Permissions {
  /** AWS IAM statements, merged by `certkeeper iam-policy`. */
  iam?: IamStatement[];
  /** Grants outside AWS in the vendor's words, for the reference (e.g. "an API token with Zone:DNS:Edit on the zone"). */
  grants?: string[];
}

export interface PermissionContext {
  /** The certificate whose config this is (for per-certificate resources such as `certkeeper/<id>`). */
  certificate: Pick<CertificateConfig, 'id' | 'domains'>;
  /** Record names the DNS provider writes for this certificate (`_acme-challenge.<d>`, alias applied). */
  challengeNames: string[];
  /** The ACME directory (the account store keeps one account per directory). */
  directoryUrl: string;
  /** Look resources up (e.g. hosted zones) when the config leaves them to discovery; absent: offline. */
  discover?: boolean;
  ctx?: AdapterContext;
}

/** What every adapter factory receives. */
export interface AdapterContext {
  clock: Clock;
  logger: Logger;
  env: Env;
  entry: EntryPoint;
  lookup: DnsLookup;
  /** For HTTP adapters; tests may inject one. Default: the global fetch. */
  fetch?: typeof fetch;
  /**
   * Services shared by a family of adapters (e.g. `aws`: the AWS client factory, so every AWS
   * adapter of a run shares clients, credentials and the IAM call observer). Opaque to the core.
   */
  services?: Readonly<Record<string, unknown>>;
}

/** The parsed options of a descriptor's shape. */
export type OptionsOf<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

interface DescriptorBase<S extends z.ZodRawShape> {
  /** The tag in the config (`dns.provider`, `store.type`, `exports[].type`, `hooks[].type`). */
  readonly name: string;
  /** One paragraph for the generated reference and the JSON Schema description. */
  readonly doc: string;
  /** The adapter's own options; the core adds the tag and the fields common to the kind. */
  readonly options: S;
  /**
   * Options whose values are credentials, as dotted paths (`apiToken`, `tsig.secret`): masked in the
   * Action, scrubbed from messages, never printed, and accepted only as `${env:NAME}` references.
   */
  readonly secrets: readonly string[];
  /** Environment variables the adapter reads that hold credentials (masked too). */
  readonly secretEnv?: readonly string[];
  /** Where it can run (default: everywhere). A config naming it elsewhere fails when it loads. */
  readonly entryPoints?: readonly EntryPoint[];
  /**
   * Option paths the Action's one-certificate shortcut fills from environment variables, as
   * `${env:NAME}` references (e.g. `{ apiToken: 'CLOUDFLARE_API_TOKEN' }`), so `dns-provider: <name>`
   * works with credentials set as job environment.
   */
  readonly shortcutEnv?: Readonly<Record<string, string>>;
  /**
   * Cross-field checks on parsed options (and the environment, e.g. a token that may come from
   * `CLOUDFLARE_API_TOKEN`); issue paths are relative to the adapter's object. Pure, no network.
   */
  check?(options: OptionsOf<S>, ctx: { env: Env; entry?: EntryPoint }): ConfigIssue[];
}

export interface DnsDescriptor<S extends z.ZodRawShape = z.ZodRawShape> extends DescriptorBase<S> {
  readonly kind: 'dns';
  permissions(config: OptionsOf<S> & DnsCommon, ctx: PermissionContext): Permissions | Promise<Permissions>;
  create(config: OptionsOf<S> & DnsCommon, ctx: AdapterContext): Promise<DnsProvider>;
}

export interface StoreDescriptor<S extends z.ZodRawShape = z.ZodRawShape> extends DescriptorBase<S> {
  readonly kind: 'store';
  permissions(config: OptionsOf<S> & { type: string }, ctx: PermissionContext): Permissions | Promise<Permissions>;
  create(
    config: OptionsOf<S> & { type: string },
    certificateId: string,
    ctx: AdapterContext,
  ): Promise<CertificateStore>;
  /** The ACME account store of this kind (PRODUCT §2: kept in the first certificate's store kind). */
  accountStore(config: OptionsOf<S> & { type: string }, ctx: AdapterContext): Promise<AccountStore>;
  /** Extra permissions for the account store (from the first certificate's store config). */
  accountPermissions?(config: OptionsOf<S> & { type: string }, ctx: PermissionContext): Permissions;
}

export interface ExportDescriptor<S extends z.ZodRawShape = z.ZodRawShape> extends DescriptorBase<S> {
  readonly kind: 'export';
  permissions(config: OptionsOf<S> & { type: string }, ctx: PermissionContext): Permissions | Promise<Permissions>;
  create(config: OptionsOf<S> & { type: string }, ctx: AdapterContext): Promise<CertificateExporter>;
}

export interface HookDescriptor<S extends z.ZodRawShape = z.ZodRawShape> extends DescriptorBase<S> {
  readonly kind: 'hook';
  permissions(config: OptionsOf<S> & HookCommon, ctx: PermissionContext): Permissions | Promise<Permissions>;
  create(config: OptionsOf<S> & HookCommon, ctx: AdapterContext): Promise<DeployHook>;
}

export type AnyDescriptor = DnsDescriptor | StoreDescriptor | ExportDescriptor | HookDescriptor;

/** A well-known ACME CA: its alias in `acme.directory` and what certkeeper assumes about it. */
export interface CaDescriptor {
  /** The alias, e.g. `letsencrypt-staging`. */
  readonly name: string;
  readonly directoryUrl: string;
  /** The CA's new-order limit per account, applied as the default `acme.orderBudget`. */
  readonly orderBudget?: { orders: number; perMs: number };
  /**
   * New certificates per registered domain (public suffix + 1) per window, renewals of the same
   * names exempt but counted (Let's Encrypt: 50 per 7 days); the doctor's `limits` check.
   */
  readonly registeredDomainLimit?: { certificates: number; perMs: number };
}

/** The registry: one array per kind. `defaultStore` is the store used when a certificate names none. */
export interface AdapterRegistry {
  dns: readonly DnsDescriptor[];
  store: readonly StoreDescriptor[];
  export: readonly ExportDescriptor[];
  hook: readonly HookDescriptor[];
  defaultStore: string;
  cas: readonly CaDescriptor[];
}

/** Builds the adapters a certificate's config names. Lazy, so a no-op run loads no SDK it doesn't use. */
export interface AdapterFactory {
  store(cert: CertificateConfig): Promise<CertificateStore>;
  dns(cert: CertificateConfig): Promise<DnsProvider>;
  /** The ACME account lives in the first certificate's store kind (PRODUCT §2). */
  accountStore(): Promise<AccountStore>;
  exporters(cert: CertificateConfig): Promise<CertificateExporter[]>;
  hooks(cert: CertificateConfig): Promise<DeployHook[]>;
  /** DNS lookups (TXT, CNAME, NS, CAA, SOA) against given or system resolvers. */
  readonly lookup: DnsLookup;
}
