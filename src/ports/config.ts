import type { KeyType } from './store.js';

/**
 * The config after validation (PRODUCT §2): defaults merged, names normalized, every duration in
 * milliseconds. The core builds it (src/core/config/); adapters receive their own part of it.
 * Adapter-specific options are typed by each adapter's descriptor, so here they are open.
 */

/** Fields every DNS provider config has, whatever the provider. */
export interface DnsCommon {
  provider: string;
  /** TTL of the TXT records, seconds. */
  ttl: number;
  propagation: {
    /** "host:port"; absent: the zone's authoritative servers (or the provider's default). */
    resolvers?: string[];
    timeoutMs: number;
    intervalMs: number;
  };
  /** Normalized; `_acme-challenge.<d>` records go under this zone instead (CNAME-delegated validation). */
  challengeAlias?: string;
}

export type HookOn = 'renewed' | 'failed' | 'warning';

export interface HookCommon {
  type: string;
  on: HookOn[];
}

export type DnsConfig = DnsCommon & Record<string, unknown>;
export type StoreConfig = { type: string } & Record<string, unknown>;
export type ExportConfig = { type: string } & Record<string, unknown>;
export type HookConfig = HookCommon & Record<string, unknown>;

export interface CertificateConfig {
  id: string;
  /** Lowercased, punycode; the first is the subject when the CA puts one. */
  domains: string[];
  keyType: KeyType;
  /** ACME profile for this certificate (its own, else `acme.profile`). */
  profile?: string;
  dns: DnsConfig;
  store: StoreConfig;
  exports: ExportConfig[];
  hooks: HookConfig[];
}

export type RenewBefore = { kind: 'days'; value: number } | { kind: 'share'; value: number };

export interface Config {
  acme: {
    directoryUrl: string;
    email?: string;
    eab?: { kid: string; hmacKey: string };
    caBundle?: string;
    profile?: string;
    /** New orders per window; absent: no budget (a Let's Encrypt directory gets 300 per 3 h). */
    orderBudget?: { orders: number; perMs: number };
    caaIdentities?: string[];
  };
  renewal: {
    /** Absent: the default (33 %, or half the lifetime for lifetimes of 10 days or less). */
    renewBefore?: RenewBefore;
    warnBeforeMs: number;
    criticalBeforeMs: number;
    ari: boolean;
    /** Wait after the 1st, 2nd, … failure; the last applies to every later one. */
    failureBackoffMs: number[];
  };
  concurrency: number;
  leaseTtlMs: number;
  fleet: { batchSize: number };
  certificates: CertificateConfig[];
}
