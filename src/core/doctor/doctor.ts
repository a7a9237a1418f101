import { randomUUID } from 'node:crypto';
import type { AdapterFactory, CaDescriptor } from '../../ports/adapter.js';
import type { Clock } from '../../ports/clock.js';
import type { CertificateConfig, Config } from '../../ports/config.js';
import type { DnsProvider } from '../../ports/dns.js';
import { toErrorInfo } from '../../ports/errors.js';
import type { Logger } from '../../ports/logger.js';
import type { AccountStore, CertificateStore, LeaseState, ReadResult, RenewalState } from '../../ports/store.js';
import type { AcmeSession } from '../acme.js';
import { parseCertificate } from '../certinfo.js';
import { baseDomain, challengeRecordName } from '../domains.js';
import { renewalTime } from '../plan.js';
import { mapLimit } from '../runner.js';
import { type AccountFacts, type DirectoryFacts, decideAccount, decideDirectory } from './acme-checks.js';
import { type CaaContext, decideCaa } from './caa.js';
import { combineAlias, decideAlias, decideDelegation, decideZone, type ZoneLookup } from './dns.js';
import { type DueCertificate, decideLimits } from './limits.js';
import { DoctorLookups } from './lookups.js';
import { probePropagation } from './probe.js';
import {
  type CheckId,
  type CheckResult,
  combine,
  type DoctorReport,
  pass,
  skip,
  summarizeChecks,
  type Verdict,
  warn,
} from './report.js';
import { decideEndpoint, decideExpiry, decideStore, type EndpointFacts, type StoreFacts } from './store-checks.js';

/**
 * `certkeeper doctor` (PRODUCT §5): what a renewal needs, checked without ordering, storing or
 * leaving anything behind. Facts are gathered through the ports (every lookup cached and started
 * at once), then each check is a pure decision over them (acme-checks, caa, dns, store-checks,
 * limits). Only `--probe` writes: one TXT value, removed again.
 */

export interface DoctorOptions {
  /** Only these certificate ids (the checks of the whole config still run). */
  only?: string[];
  /** Also run `dns.probe`: write one TXT value per zone and time its propagation. */
  probe?: boolean;
  /** Where the config came from, for the `config` check's message. */
  configSource?: string;
  /** The lease owner name the store check and the probe take leases as. */
  owner?: string;
  signal?: AbortSignal;
}

export interface DoctorDeps {
  adapters: AdapterFactory;
  clock: Clock;
  logger: Logger;
  /** The CAs certkeeper knows (the registry's): their limits per registered domain. */
  cas?: readonly CaDescriptor[];
}

/** Certificates checked at once: the lookups are shared, so this bounds store and provider calls. */
const PARALLEL = 16;
/** The store check's lease is released at once; if the doctor dies holding it, it blocks only this long. */
const DOCTOR_LEASE_TTL_MS = 60_000;

interface AcmeFacts {
  directory: DirectoryFacts;
  account: AccountFacts;
  caa: CaaContext;
}

interface Shared {
  config: Config;
  options: DoctorOptions;
  deps: DoctorDeps;
  owner: string;
  lookups: DoctorLookups;
  acme: Promise<AcmeFacts>;
  /** One probe per DNS config and zone, shared by the certificates in it. */
  probes: Map<string, Promise<{ verdict: Verdict; by: string }>>;
}

export async function doctor(config: Config, options: DoctorOptions, deps: DoctorDeps): Promise<DoctorReport> {
  const { clock } = deps;
  const started = clock.now().getTime();
  const only = options.only?.length ? new Set(options.only) : undefined;
  const certs = config.certificates.filter((c) => !only || only.has(c.id));
  const shared: Shared = {
    config,
    options,
    deps,
    owner: options.owner ?? `doctor:${randomUUID().slice(0, 8)}`,
    lookups: new DoctorLookups(deps.adapters.lookup),
    acme: gatherAcme(config, deps),
    probes: new Map(),
  };
  const source = options.configSource ?? 'the config';
  const checks: CheckResult[] = [
    {
      certificate: null,
      check: 'config',
      ...pass(`${source} parses: ${config.certificates.length} certificate(s), every \${env:…} it references is set`),
    },
  ];

  const perCertificate = await mapLimit(certs, PARALLEL, (cert) => checkCertificate(cert, shared));
  const acme = await shared.acme;
  const needs = {
    url: config.acme.directoryUrl,
    ari: config.renewal.ari,
    profiles: [...new Set([config.acme.profile, ...certs.map((c) => c.profile)].filter((p): p is string => !!p))],
    eab: Boolean(config.acme.eab),
    accountStored: acme.account.kind === 'stored' || acme.account.kind === 'unasked',
  };
  checks.push(
    { certificate: null, check: 'acme.directory', ...decideDirectory(acme.directory, needs) },
    { certificate: null, check: 'acme.account', ...decideAccount(acme.account, config.acme.directoryUrl) },
    { certificate: null, check: 'limits', ...(await limitsVerdict(config, perCertificate, shared)) },
  );
  for (const c of perCertificate) checks.push(...c.checks);
  return { checks, summary: summarizeChecks(checks), durationMs: clock.now().getTime() - started };
}

/** The innermost `code` of an error's cause chain (ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN, …). */
function causeCode(error: unknown): string | undefined {
  let code: string | undefined;
  for (let e: unknown = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
  }
  return code;
}

async function gatherAcme(config: Config, deps: DoctorDeps): Promise<AcmeFacts> {
  const { clock, logger } = deps;
  const accountsP: Promise<AccountStore> = deps.adapters.accountStore();
  accountsP.catch(() => {});
  let session: AcmeSession | undefined;
  let directory: DirectoryFacts;
  try {
    const { AcmeSession } = await import('../acme.js');
    session = await AcmeSession.readOnly(config.acme, { clock, logger });
    directory = { ok: true, directory: await session.directory() };
  } catch (error) {
    const code = causeCode(error);
    directory = { ok: false, error: toErrorInfo(error), ...(code ? { code } : {}) };
  }
  let account: AccountFacts;
  let accountUrl: string | undefined;
  let ref = 'the account store';
  try {
    const accounts = await accountsP;
    ref = accounts.ref;
    const stored = await accounts.load(config.acme.directoryUrl);
    if (!stored) account = { kind: 'none', ref };
    else {
      accountUrl = stored.accountUrl;
      if (!directory.ok || !session) account = { kind: 'unasked', ref, account: stored };
      else {
        let status: Extract<AccountFacts, { kind: 'stored' }>['status'];
        try {
          status = await session.accountStatus(stored);
        } catch (error) {
          status = { ok: 'unreachable', error: toErrorInfo(error) };
        }
        account = { kind: 'stored', ref, account: stored, status };
      }
    }
  } catch (error) {
    account = { kind: 'store-error', ref, error: toErrorInfo(error) };
  }
  const published = directory.ok ? directory.directory.caaIdentities : undefined;
  const identities = published?.length
    ? { domains: published, source: 'directory' as const }
    : config.acme.caaIdentities?.length
      ? { domains: config.acme.caaIdentities, source: 'config' as const }
      : undefined;
  return {
    directory,
    account,
    caa: { ...(identities ? { identities } : {}), ...(accountUrl ? { accountUrl } : {}) },
  };
}

interface CertificateOutcome {
  checks: CheckResult[];
  /** For `limits`; absent when the store could not be read. */
  due?: DueCertificate;
}

async function checkCertificate(cert: CertificateConfig, shared: Shared): Promise<CertificateOutcome> {
  const { deps } = shared;
  const logger = deps.logger.child({ certificate: cert.id });
  const resolvers: (string | undefined)[] = cert.dns.propagation.resolvers?.length
    ? cert.dns.propagation.resolvers
    : [undefined];
  const storeP = deps.adapters.store(cert);
  storeP.catch(() => {});
  const providerP = deps.adapters.dns(cert);
  providerP.catch(() => {});

  const [storeGathered, dnsChecks, caaVerdict] = await Promise.all([
    gatherStore(storeP, shared),
    dnsVerdicts(cert, providerP, resolvers, shared),
    caaCheck(cert, resolvers, shared),
  ]);
  const { facts, store } = storeGathered;
  const result = (check: CheckId, v: Verdict): CheckResult => ({ certificate: cert.id, check, ...v });
  const checks: CheckResult[] = [];
  if (facts) {
    checks.push(result('store', decideStore(facts)));
    checks.push(result('expiry', decideExpiry(facts.read, facts.state, shared.config.renewal, deps.clock.now())));
  } else {
    checks.push(result('store', storeGathered.failure as Verdict));
    checks.push(result('expiry', skip('the store could not be opened')));
  }
  checks.push(
    result('dns.zone', dnsChecks.zone),
    result('dns.delegation', dnsChecks.delegation),
    result('dns.alias', dnsChecks.alias),
    result('caa', caaVerdict),
    result('endpoint', await endpointCheck(cert, facts, shared)),
  );
  if (shared.options.probe) {
    checks.push(result('dns.probe', await probeCheck(cert, store, providerP, dnsChecks.zoneNames, shared)));
  }
  logger.debug(`doctor: ${cert.id} checked`);
  const due = facts?.read.ok
    ? dueOf(cert, facts.read.result, facts.state.ok ? facts.state.value : {}, shared)
    : undefined;
  return { checks, ...(due ? { due } : {}) };
}

async function gatherStore(
  storeP: Promise<CertificateStore>,
  shared: Shared,
): Promise<{ facts?: StoreFacts; store?: CertificateStore; failure?: Verdict }> {
  let store: CertificateStore;
  try {
    store = await storeP;
  } catch (error) {
    const info = toErrorInfo(error);
    return { failure: { status: 'fail', message: `cannot open the store: ${info.message}`, hint: info.hint ?? '' } };
  }
  const signal = shared.options.signal;
  const [read, state, lease] = await Promise.all([
    store.read(signal).then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error: toErrorInfo(error) }),
    ),
    store.readState(signal).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error: toErrorInfo(error) }),
    ),
    leaseRoundTrip(store, shared),
  ]);
  return { facts: { type: store.type, ref: store.ref, read, state, lease }, store };
}

class StaleLease extends Error {
  constructor(readonly holder: LeaseState) {
    super('stale lease');
  }
}

/** Take the lease and give it back at once: proves write access without writing a version. */
async function leaseRoundTrip(store: CertificateStore, shared: Shared): Promise<StoreFacts['lease']> {
  let acquired: Awaited<ReturnType<CertificateStore['acquireLease']>>;
  try {
    acquired = await store.acquireLease(shared.owner, DOCTOR_LEASE_TTL_MS, async (stale) => {
      // Breaking it would remove the TXT values it lists: a run's job, not the doctor's.
      throw new StaleLease(stale);
    });
  } catch (error) {
    if (error instanceof StaleLease) return { kind: 'stale', holder: error.holder };
    return { kind: 'failed', error: toErrorInfo(error) };
  }
  if (acquired.kind === 'locked') return { kind: 'locked', holder: acquired.holder };
  try {
    await acquired.lease.release();
    return { kind: 'released' };
  } catch (error) {
    return { kind: 'stuck', error: toErrorInfo(error), expiresAt: acquired.lease.state.expiresAt };
  }
}

/** The certificate's names as the challenge records a renewal writes (alias applied). */
function challengeNames(cert: CertificateConfig): { base: string; from: string; record: string }[] {
  const bases = [...new Set(cert.domains.map(baseDomain))];
  return bases.map((base) => ({
    base,
    from: challengeRecordName(base),
    record: challengeRecordName(base, cert.dns.challengeAlias),
  }));
}

async function dnsVerdicts(
  cert: CertificateConfig,
  providerP: Promise<DnsProvider>,
  resolvers: (string | undefined)[],
  shared: Shared,
): Promise<{ zone: Verdict; delegation: Verdict; alias: Verdict; zoneNames: Map<string, string> }> {
  const names = challengeNames(cert);
  const alias = cert.dns.challengeAlias;
  const aliasP = Promise.all(
    names.flatMap((n) =>
      resolvers.map(async (resolver) =>
        decideAlias({
          resolver,
          from: n.from,
          ...(alias ? { to: n.record } : {}),
          chain: await shared.lookups.cnameChain(resolver, n.from),
        }),
      ),
    ),
  ).then((vs) => combineAlias(vs, Boolean(alias), names.length));

  const zoneNames = new Map<string, string>();
  let provider: DnsProvider;
  try {
    provider = await providerP;
  } catch (error) {
    const info = toErrorInfo(error);
    return {
      zone: { status: 'fail', message: `cannot set up the DNS provider: ${info.message}`, hint: info.hint ?? '' },
      delegation: skip('no DNS provider'),
      alias: await aliasP,
      zoneNames,
    };
  }
  if (!provider.describeZone) {
    return {
      zone: decideZone(provider.name, 'unsupported'),
      delegation: skip(`the ${provider.name} provider cannot name its name servers: not checked`),
      alias: await aliasP,
      zoneNames,
    };
  }
  const describe = provider.describeZone.bind(provider);
  const lookups: ZoneLookup[] = await Promise.all(
    [...new Set(names.map((n) => n.record))].map(async (recordName): Promise<ZoneLookup> => {
      try {
        return { recordName, ok: true, zone: await describe(recordName, shared.options.signal) };
      } catch (error) {
        return { recordName, ok: false, error: toErrorInfo(error) };
      }
    }),
  );
  const zones = new Map<string, (ZoneLookup & { ok: true })['zone']>();
  for (const l of lookups) {
    if (!l.ok) continue;
    zones.set(l.zone.name, l.zone);
    zoneNames.set(l.recordName, l.zone.name);
  }
  const delegations = await Promise.all(
    [...zones.values()].map(async (zone) =>
      decideDelegation(
        provider.name,
        zone,
        await Promise.all(
          resolvers.map(async (resolver) => ({ resolver, ns: await shared.lookups.ns(resolver, zone.name) })),
        ),
      ),
    ),
  );
  return {
    zone: decideZone(provider.name, lookups),
    delegation: delegations.length
      ? combine(delegations, () => delegations.map((d) => d.message).join('; '))
      : skip('no zone found to check'),
    alias: await aliasP,
    zoneNames,
  };
}

async function caaCheck(cert: CertificateConfig, resolvers: (string | undefined)[], shared: Shared): Promise<Verdict> {
  const gathered = await Promise.all(
    cert.domains.flatMap((name) =>
      resolvers.map(async (resolver) => ({
        name,
        resolver,
        relevant: await shared.lookups.relevantCaa(resolver, name),
      })),
    ),
  );
  const ctx = (await shared.acme).caa;
  const verdicts = gathered.map(({ name, resolver, relevant }): Verdict => {
    if (!relevant.ok) {
      return warn(
        `could not check the CAA records of ${name}: ${relevant.error}`,
        'check that the resolvers (dns.propagation.resolvers, else the system one) answer CAA queries',
      );
    }
    const v = decideCaa(name, relevant.value, ctx);
    return resolvers.length > 1 && v.status !== 'pass' ? { ...v, message: `${v.message} (as ${resolver} sees it)` } : v;
  });
  return combine(verdicts, () => {
    // "a: x", "*.a: x" → "a, *.a: x"
    const byFinding = new Map<string, string[]>();
    for (const [i, v] of verdicts.entries()) {
      const name = (gathered[i] as { name: string }).name;
      const finding = v.message.startsWith(`${name}: `) ? v.message.slice(name.length + 2) : v.message;
      const names = byFinding.get(finding) ?? [];
      if (!names.includes(name)) names.push(name);
      byFinding.set(finding, names);
    }
    return [...byFinding].map(([finding, names]) => `${names.join(', ')}: ${finding}`).join('; ');
  });
}

async function endpointCheck(cert: CertificateConfig, facts: StoreFacts | undefined, shared: Shared): Promise<Verdict> {
  if (!cert.hooks.length) return decideEndpoint({ kind: 'none' });
  let f: EndpointFacts;
  try {
    const hooks = (await shared.deps.adapters.hooks(cert)).filter((h) => h.inspect);
    if (hooks.length === 0) f = { kind: 'none' };
    else if (!facts?.read.ok || facts.read.result.kind !== 'found') f = { kind: 'nothing-stored' };
    else {
      const stored = facts.read.result.certificate;
      const states = (
        await Promise.all(
          hooks.map((h) =>
            h.inspect?.({ serialNumber: stored.serialNumber, domains: cert.domains }, shared.options.signal),
          ),
        )
      ).flatMap((s) => s ?? []);
      f = { kind: 'inspected', serialNumber: stored.serialNumber.toLowerCase(), states };
    }
  } catch (error) {
    f = { kind: 'error', error: toErrorInfo(error) };
  }
  return decideEndpoint(f);
}

async function probeCheck(
  cert: CertificateConfig,
  store: CertificateStore | undefined,
  providerP: Promise<DnsProvider>,
  zoneNames: Map<string, string>,
  shared: Shared,
): Promise<Verdict> {
  const first = challengeNames(cert)[0];
  if (!first) return skip('no names');
  let provider: DnsProvider;
  try {
    provider = await providerP;
  } catch {
    return skip('no DNS provider (see dns.zone)');
  }
  if (!store) return skip('no store to take the lease in (see store)');
  const zone = zoneNames.get(first.record);
  const key = `${JSON.stringify(cert.dns)}|${zone ?? first.record}`;
  let probe = shared.probes.get(key);
  const mine = !probe;
  if (!probe) {
    probe = probePropagation(
      {
        provider,
        store,
        recordName: first.record,
        ...(cert.dns.propagation.resolvers?.length ? { resolvers: cert.dns.propagation.resolvers } : {}),
        timeoutMs: cert.dns.propagation.timeoutMs,
        intervalMs: cert.dns.propagation.intervalMs,
        owner: shared.owner,
        leaseTtlMs: Math.max(DOCTOR_LEASE_TTL_MS, cert.dns.propagation.timeoutMs + DOCTOR_LEASE_TTL_MS),
      },
      {
        clock: shared.deps.clock,
        logger: shared.deps.logger,
        lookup: shared.deps.adapters.lookup,
        ...(shared.options.signal ? { signal: shared.options.signal } : {}),
      },
    ).then((verdict) => ({ verdict, by: cert.id }));
    shared.probes.set(key, probe);
  }
  const { verdict, by } = await probe;
  return mine
    ? verdict
    : { ...verdict, message: `zone ${zone ?? first.record}, probed with ${by}: ${verdict.message}` };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** When the certificate is next due, for `limits`: a missing or changed one is due now and new. */
function dueOf(cert: CertificateConfig, read: ReadResult, state: RenewalState, shared: Shared): DueCertificate {
  const now = shared.deps.clock.now();
  const base = { id: cert.id, domains: cert.domains };
  if (read.kind !== 'found') return { ...base, dueAt: now, renewal: false };
  if (!sameNames(read.certificate.domains, cert.domains)) return { ...base, dueAt: now, renewal: false };
  try {
    const info = parseCertificate(read.certificate.certificate);
    let dueAt = renewalTime(info, shared.config.renewal);
    const ari = state.ari;
    if (shared.config.renewal.ari && ari) {
      const selected = new Date(Date.parse(ari.end) <= now.getTime() ? now : ari.selected);
      if (selected < dueAt) dueAt = selected;
    }
    return { ...base, dueAt: new Date(Math.max(dueAt.getTime(), now.getTime())), renewal: true };
  } catch {
    return { ...base, dueAt: now, renewal: false };
  }
}

async function limitsVerdict(config: Config, outcomes: CertificateOutcome[], shared: Shared): Promise<Verdict> {
  const now = shared.deps.clock.now();
  const ca = (shared.deps.cas ?? []).find((c) => c.directoryUrl === config.acme.directoryUrl);
  const budget = config.acme.orderBudget;
  let used: NonNullable<Parameters<typeof decideLimits>[0]['budget']>['used'] = { ok: 'unsupported' };
  if (budget) {
    try {
      const accounts = await shared.deps.adapters.accountStore();
      if (accounts.ordersInWindow) {
        used = { ok: true, ...(await accounts.ordersInWindow(config.acme.directoryUrl, budget)) };
      }
    } catch (error) {
      used = { ok: false, error: toErrorInfo(error) };
    }
  }
  const certificates = outcomes.map((o) => o.due).filter((d): d is DueCertificate => Boolean(d));
  return decideLimits({
    now,
    certificates,
    ...(ca?.registeredDomainLimit ? { registeredDomainLimit: ca.registeredDomainLimit } : {}),
    ...(budget ? { budget: { ...budget, used } } : {}),
  });
}
