import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { AdapterFactory } from '../ports/adapter.js';
import type { Clock } from '../ports/clock.js';
import type { CertificateConfig, Config } from '../ports/config.js';
import { type ErrorInfo, StoreError, toErrorInfo } from '../ports/errors.js';
import { KEY_PEM_LABEL } from '../ports/hooks.js';
import type { CertificateReader, FoundCertificate, ImportTool, ToolMetadata } from '../ports/import.js';
import type { Logger } from '../ports/logger.js';
import type { CertificateStore, IssuedBy, KeyType, StoredCertificate } from '../ports/store.js';
import { type CertificateInfo, parseCertificate, splitPemChain } from './certinfo.js';
import { buildEvent } from './events.js';
import { runHooks } from './hooks.js';
import { daysLeft } from './plan.js';
import type { HookResult } from './results.js';
import { mapLimit } from './runner.js';

/**
 * Import (PRODUCT §6): adopt certificates another ACME client issued. A reader (an adapter) finds
 * them; here each is checked (key, chain, names, validity), matched to a configured certificate by
 * id or by its exact set of names, and written as a new version into that certificate's store, as
 * a renewal would write it — without contacting the CA, so the next `run` renews it only when due.
 * Nothing here knows any tool's layout, and no key material leaves this module except into a store
 * or a `command` hook.
 */

export type ImportStatus =
  | 'imported'
  | 'would-import'
  | 'unchanged'
  | 'skipped'
  | 'unmatched'
  | 'refused'
  | 'locked'
  | 'failed';

export const IMPORT_STATUSES: readonly ImportStatus[] = [
  'imported',
  'would-import',
  'unchanged',
  'skipped',
  'unmatched',
  'refused',
  'locked',
  'failed',
];

/** A config entry to add for a certificate that matches nothing configured. */
export interface SuggestedEntry {
  id: string;
  domains: string[];
  keyType: KeyType;
}

/** One found certificate and what became of it. Never carries key material. */
export interface ImportResult {
  /** The tool's name for it and where it was read. */
  name: string;
  source: string;
  status: ImportStatus;
  reason: string;
  hint?: string;
  /** The configured certificate it matched. */
  id?: string;
  domains: string[];
  serialNumber?: string;
  notAfter?: string;
  daysLeft?: number;
  keyType?: KeyType | 'unknown';
  store?: { type: string; ref: string; version?: string };
  exports?: Record<string, string>;
  hooks?: HookResult[];
  warnings?: string[];
  error?: ErrorInfo;
  /** What the tool's own metadata says (server, key type, …). */
  metadata?: ToolMetadata;
  suggestion?: SuggestedEntry;
}

export interface ImportReport {
  tool: ImportTool;
  origin: string;
  dryRun: boolean;
  results: ImportResult[];
  summary: Record<ImportStatus, number>;
  durationMs: number;
}

export interface ImportOptions {
  dryRun?: boolean;
  allowExpired?: boolean;
  /** Run the certificates' hooks after writing (off by default: importing changes nothing deployed). */
  hooks?: boolean;
  only?: string[];
  signal?: AbortSignal;
}

export interface ImportDeps {
  adapters: Pick<AdapterFactory, 'store' | 'exporters' | 'hooks'>;
  clock: Clock;
  logger: Logger;
}

/** A found certificate that passed every check, split and normalised as the store keeps it. */
interface Verified {
  found: FoundCertificate;
  certificate: string;
  chain: string;
  fullchain: string;
  /** PKCS#8 PEM, the stored format's. */
  privateKey: string;
  info: CertificateInfo & { keyType: KeyType };
  warnings: string[];
}

type Check = { ok: true; verified: Verified } | { ok: false; reason: string; hint?: string; info?: CertificateInfo };

const NOT_YET_VALID_SLACK_MS = 5 * 60_000;
const LEASE_TTL_MS = 2 * 60_000;

const KEY_PEM = new RegExp(`-----BEGIN [A-Z ]*${KEY_PEM_LABEL}-----`);
const ENCRYPTED_KEY_PEM = new RegExp(`-----BEGIN ENCRYPTED ${KEY_PEM_LABEL}-----`);

function encryptedPem(pem: string): boolean {
  return ENCRYPTED_KEY_PEM.test(pem) || /Proc-Type:\s*4,\s*ENCRYPTED/i.test(pem);
}

/** Checks a found certificate on its own (PRODUCT §6): key, chain, names, validity. */
function verifyFound(found: FoundCertificate, now: Date, allowExpired = false): Check {
  const blocks = splitPemChain(found.certificate);
  const leafPem = blocks[0];
  if (!leafPem) return { ok: false, reason: 'no PEM certificate in the certificate file' };
  let leaf: X509Certificate;
  let info: CertificateInfo;
  try {
    leaf = new X509Certificate(leafPem);
    info = parseCertificate(leafPem);
  } catch (error) {
    return { ok: false, reason: `the certificate does not parse (${(error as Error).message.split('\n')[0]})` };
  }
  const fail = (reason: string, hint?: string): Check => ({ ok: false, reason, info, ...(hint ? { hint } : {}) });

  if (!KEY_PEM.test(found.privateKey)) return fail('no PEM private key in the key file');
  if (encryptedPem(found.privateKey)) {
    return fail(
      'the private key is encrypted (passphrase protected)',
      'decrypt it first, e.g. `openssl pkey -in key.pem -out key.plain.pem`, and import that file',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(found.privateKey);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE') {
      return fail('the private key is encrypted (passphrase protected)', 'decrypt it first and import that file');
    }
    // The message names OpenSSL's decoder, never the key's bytes.
    return fail(`the private key does not parse (${(error as Error).message.split('\n')[0]})`);
  }
  if (!leaf.checkPrivateKey(key)) {
    return fail(
      'the private key does not match the certificate',
      'the key file belongs to another certificate (an older one?): give the key this certificate was issued for',
    );
  }
  if (info.keyType === 'unknown') {
    const t = leaf.publicKey.asymmetricKeyType;
    const d = leaf.publicKey.asymmetricKeyDetails;
    return fail(
      `its key (${t}${d?.namedCurve ? ` ${d.namedCurve}` : d?.modulusLength ? ` ${d.modulusLength}` : ''}) is not a key type certkeeper keeps`,
      'certkeeper keeps ec-p256, ec-p384, rsa-2048, rsa-3072 and rsa-4096 keys; let `certkeeper run` issue this one anew',
    );
  }
  if (info.dnsNames.length === 0) return fail('the certificate names no DNS name (no subjectAltName)');

  const separate = splitPemChain(found.chain);
  const chainBlocks = separate.length > 0 ? separate : blocks.slice(1);
  if (chainBlocks.length === 0) {
    return fail(
      `no intermediate certificate: the chain to ${info.issuer} is missing`,
      'give the chain too (pem: --chain FILE, or a --cert file holding the full chain)',
    );
  }
  const links = [leafPem, ...chainBlocks];
  for (let i = 0; i + 1 < links.length; i++) {
    const child = new X509Certificate(links[i] as string);
    let parent: X509Certificate;
    try {
      parent = new X509Certificate(links[i + 1] as string);
    } catch {
      return fail(`chain certificate ${i + 1} does not parse`);
    }
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      const what = i === 0 ? 'the certificate' : `chain certificate ${i}`;
      return fail(
        `the chain does not link: ${what} (issuer ${child.issuer.split('\n').reverse().join(', ')}) is not signed by the next one (${parent.subject.split('\n').reverse().join(', ')})`,
        'the chain file belongs to another certificate, or is out of order: each certificate must be followed by its issuer',
      );
    }
  }
  const warnings: string[] = [];
  if (info.notAfter.getTime() <= now.getTime()) {
    if (!allowExpired) {
      return fail(
        `the certificate expired on ${info.notAfter.toISOString()}`,
        'an expired certificate is worth nothing to a client; `certkeeper run` issues a new one (or import with --allow-expired to keep it on record)',
      );
    }
    warnings.push(`expired on ${info.notAfter.toISOString()}: the next run renews it at once`);
  }
  if (info.notBefore.getTime() > now.getTime() + NOT_YET_VALID_SLACK_MS) {
    return fail(`the certificate is not valid before ${info.notBefore.toISOString()}`, 'check this machine’s clock');
  }
  const chain = chainBlocks.join('');
  return {
    ok: true,
    verified: {
      found,
      certificate: leafPem,
      chain,
      fullchain: leafPem + chain,
      privateKey: key.export({ type: 'pkcs8', format: 'pem' }) as string,
      info: info as CertificateInfo & { keyType: KeyType },
      warnings,
    },
  };
}

const setKey = (names: string[]) => [...new Set(names.map((n) => n.toLowerCase()))].sort().join(' ');

function sameSet(a: string[], b: string[]): boolean {
  return setKey(a) === setKey(b);
}

/** `*.example.com` → `example-com`, as a certificate id ([a-z0-9][a-z0-9._-]*). */
function suggestId(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/^\*\./, '')
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\./g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 128);
  return id || 'certificate';
}

type Match =
  | { kind: 'matched'; cert: CertificateConfig; by: 'id' | 'domains' }
  | { kind: 'ambiguous'; ids: string[] }
  | { kind: 'outside-only'; id: string }
  | { kind: 'none' };

function match(
  name: string,
  names: string[],
  certs: readonly CertificateConfig[],
  only: Set<string> | undefined,
): Match {
  const byId = certs.find((c) => c.id === name);
  const byDomains = byId ? [] : certs.filter((c) => sameSet(c.domains, names));
  const hit: Match =
    byId !== undefined
      ? { kind: 'matched', cert: byId, by: 'id' }
      : byDomains.length === 1
        ? { kind: 'matched', cert: byDomains[0] as CertificateConfig, by: 'domains' }
        : byDomains.length > 1
          ? { kind: 'ambiguous', ids: byDomains.map((c) => c.id) }
          : { kind: 'none' };
  if (only && hit.kind === 'matched' && !only.has(hit.cert.id)) return { kind: 'outside-only', id: hit.cert.id };
  if (only && hit.kind === 'ambiguous') {
    const inOnly = hit.ids.filter((id) => only.has(id));
    if (inOnly.length === 1) {
      return { kind: 'matched', cert: certs.find((c) => c.id === inOnly[0]) as CertificateConfig, by: 'domains' };
    }
  }
  return hit;
}

function summarize(results: ImportResult[]): Record<ImportStatus, number> {
  const out = Object.fromEntries(IMPORT_STATUSES.map((s) => [s, 0])) as Record<ImportStatus, number>;
  for (const r of results) out[r.status]++;
  return out;
}

/** Reads everything the reader finds and imports what matches the config. */
export async function importCertificates(
  config: Config | undefined,
  reader: CertificateReader,
  options: ImportOptions,
  deps: ImportDeps,
): Promise<ImportReport> {
  const { clock, logger } = deps;
  const started = clock.now();
  const scan = await reader.scan();
  const certs = config?.certificates ?? [];
  const only = options.only?.length ? new Set(options.only) : undefined;
  const results: ImportResult[] = [];

  for (const u of scan.unreadable) {
    results.push({
      name: u.name,
      source: u.source,
      status: 'refused',
      reason: `cannot read it: ${u.reason}`,
      domains: [],
    });
  }

  // Match first (the names need only a parse), so that what --only leaves out is not checked;
  // then check each on its own, then compare the ones found for the same certificate.
  const candidates: { v: Verified; cert: CertificateConfig; by: 'id' | 'domains'; result: ImportResult }[] = [];
  for (const found of scan.found) {
    const base = (info?: CertificateInfo): ImportResult => ({
      name: found.name,
      source: found.source,
      status: 'refused',
      reason: '',
      domains: info?.dnsNames ?? found.metadata.domains ?? [],
      ...(Object.keys(found.metadata).length ? { metadata: found.metadata } : {}),
      ...(info
        ? {
            serialNumber: info.serialNumber,
            notAfter: info.notAfter.toISOString(),
            daysLeft: daysLeft(info.notAfter, started),
            keyType: info.keyType,
          }
        : {}),
    });
    let info: CertificateInfo | undefined;
    try {
      info = parseCertificate(found.certificate);
    } catch {
      // verifyFound says what is wrong with it.
    }
    const m = info ? match(found.name, info.dnsNames, certs, only) : ({ kind: 'none' } as const);
    if (m.kind === 'outside-only') {
      results.push({ ...base(info), status: 'skipped', id: m.id, reason: `matches ${m.id}, which is not in --only` });
      continue;
    }
    const check = verifyFound(found, started, options.allowExpired);
    if (!check.ok) {
      results.push({ ...base(check.info), reason: check.reason, ...(check.hint ? { hint: check.hint } : {}) });
      logger.warn(`${found.name}: refused: ${check.reason}`);
      continue;
    }
    const v = check.verified;
    const result: ImportResult = { ...base(v.info), ...(v.warnings.length ? { warnings: [...v.warnings] } : {}) };
    if (m.kind === 'matched') {
      candidates.push({ v, cert: m.cert, by: m.by, result: { ...result, id: m.cert.id } });
    } else if (m.kind === 'ambiguous') {
      results.push({
        ...result,
        reason: `its names match several configured certificates: ${m.ids.join(', ')}`,
        hint: 'choose one with --only <id>',
      });
    } else {
      results.push({ ...result, status: 'unmatched', reason: 'matches no configured certificate (by id or names)' });
    }
  }

  // Several found for one configured certificate (a copy kept under a second name, the same one in
  // two tools): the one valid longest wins, the others are reported, not written over each other.
  const byCert = new Map<string, typeof candidates>();
  for (const c of candidates) byCert.set(c.cert.id, [...(byCert.get(c.cert.id) ?? []), c]);
  const chosen: typeof candidates = [];
  for (const group of byCert.values()) {
    group.sort((a, b) => b.v.info.notAfter.getTime() - a.v.info.notAfter.getTime());
    const [best, ...rest] = group as [(typeof candidates)[number], ...typeof candidates];
    chosen.push(best);
    for (const r of rest) {
      results.push({
        ...r.result,
        status: 'skipped',
        reason:
          r.v.info.serialNumber === best.v.info.serialNumber
            ? `the same certificate as ${best.v.found.name}`
            : `${best.v.found.name} (valid until ${best.v.info.notAfter.toISOString()}) is newer, for the same certificate ${best.cert.id}`,
      });
    }
  }

  const issuedBy: IssuedBy = { via: 'import', runId: `${reader.tool}:${reader.origin}` };
  const owner = `import:${reader.tool}:${started.getTime().toString(36)}`;
  const written = await mapLimit(chosen, config?.concurrency ?? 4, (c) =>
    importOne(c.v, c.cert, c.by, c.result, { options, deps, issuedBy, owner }),
  );
  results.push(...written);

  // Unmatched ones get a config entry, with ids unique among the configured and each other.
  const taken = new Set(certs.map((c) => c.id));
  for (const r of results) {
    if (r.status !== 'unmatched' || !r.keyType || r.keyType === 'unknown') continue;
    const base = suggestId(r.name);
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
    taken.add(id);
    r.suggestion = { id, domains: r.domains, keyType: r.keyType };
  }

  const order = new Map(scan.found.map((f, i) => [f.source, i]));
  results.sort((a, b) => (order.get(a.source) ?? -1) - (order.get(b.source) ?? -1));
  return {
    tool: reader.tool,
    origin: reader.origin,
    dryRun: Boolean(options.dryRun),
    results,
    summary: summarize(results),
    durationMs: clock.now().getTime() - started.getTime(),
  };
}

interface OneCtx {
  options: ImportOptions;
  deps: ImportDeps;
  issuedBy: IssuedBy;
  owner: string;
}

function toStored(
  v: Verified,
  cert: CertificateConfig,
  issuedBy: IssuedBy,
  now: Date,
  exportsMap: Record<string, string>,
): StoredCertificate {
  return {
    format: 'certkeeper/v1',
    id: cert.id,
    // The config's order when the names are the same set, so the next run sees no change.
    domains: sameSet(cert.domains, v.info.dnsNames) ? cert.domains : v.info.dnsNames,
    certificate: v.certificate,
    chain: v.chain,
    fullchain: v.fullchain,
    privateKey: v.privateKey,
    keyType: v.info.keyType,
    serialNumber: v.info.serialNumber,
    notBefore: v.info.notBefore.toISOString(),
    notAfter: v.info.notAfter.toISOString(),
    issuer: v.info.issuer,
    issuedAt: now.toISOString(),
    issuedBy,
    ...(Object.keys(exportsMap).length ? { exports: exportsMap } : {}),
  };
}

async function importOne(
  v: Verified,
  cert: CertificateConfig,
  by: 'id' | 'domains',
  base: ImportResult,
  ctx: OneCtx,
): Promise<ImportResult> {
  const { clock } = ctx.deps;
  const logger = ctx.deps.logger.child({ certificate: cert.id });
  const warnings = [...(base.warnings ?? [])];
  if (!sameSet(cert.domains, v.info.dnsNames)) {
    const added = cert.domains.filter((d) => !v.info.dnsNames.includes(d));
    const removed = v.info.dnsNames.filter((d) => !cert.domains.includes(d));
    warnings.push(
      `matched by id, but its names differ from the config (${[...added.map((d) => `+${d}`), ...removed.map((d) => `-${d}`)].join(' ')}): the next run replaces it`,
    );
  }
  if (cert.keyType !== v.info.keyType) {
    warnings.push(
      `its key is ${v.info.keyType} but the config says ${cert.keyType}: the next run replaces it (set keyType: ${v.info.keyType} to keep it until due)`,
    );
  }
  const result: ImportResult = {
    ...base,
    id: cert.id,
    reason: `matches ${cert.id} by ${by === 'id' ? 'id' : 'names'}`,
    ...(warnings.length ? { warnings } : {}),
  };
  const serial = v.info.serialNumber;
  let store: CertificateStore | undefined;
  try {
    store = await ctx.deps.adapters.store(cert);
    result.store = { type: store.type, ref: store.ref };
    const exporters = await ctx.deps.adapters.exporters(cert);

    const compare = (read: Awaited<ReturnType<CertificateStore['read']>>): ImportResult | 'write' => {
      if (read.kind !== 'found') return 'write';
      const stored = read.certificate;
      if (stored.serialNumber.toLowerCase() === serial) {
        const missing = exporters.filter((e) => !stored.exports?.[e.type]);
        if (missing.length === 0) {
          return {
            ...result,
            status: 'unchanged',
            reason: `${cert.id} already holds this certificate (serial ${serial})`,
            store: { type: store!.type, ref: store!.ref, ...(read.version ? { version: read.version } : {}) },
          };
        }
        return 'write';
      }
      if (Date.parse(stored.notAfter) > v.info.notAfter.getTime()) {
        return {
          ...result,
          status: 'skipped',
          reason: `${cert.id} already holds a newer certificate (serial ${stored.serialNumber}, valid until ${stored.notAfter})`,
        };
      }
      return 'write';
    };

    const before = await store.read(ctx.options.signal);
    const early = compare(before);
    if (early !== 'write') return early;
    if (ctx.options.dryRun) return { ...result, status: 'would-import' };

    const acquired = await store.acquireLease(ctx.owner, LEASE_TTL_MS, async (stale) => {
      // Only a run can remove the TXT records a dead run left (it has the DNS provider): leave the
      // lease to it rather than lose track of them.
      if (stale.records.length > 0) {
        throw new StoreError(
          `${cert.id}: an expired lease of ${stale.owner} still lists ${stale.records.length} TXT record(s) to remove`,
          { hint: '`certkeeper run` removes them when it breaks the lease; import again after that' },
        );
      }
    });
    if (acquired.kind === 'locked') {
      return {
        ...result,
        status: 'locked',
        reason: `another run holds the lease (${acquired.holder.owner}) until ${acquired.holder.expiresAt}`,
      };
    }
    let previous: StoredCertificate | undefined;
    let record: StoredCertificate;
    let version: string;
    let exportError: unknown;
    try {
      // A run may have renewed it since the first read: decide again under the lease.
      const again = await store.read(ctx.options.signal);
      const late = compare(again);
      if (late !== 'write') return late;
      previous = again.kind === 'found' ? again.certificate : undefined;
      const exportsMap: Record<string, string> = { ...(previous?.exports ?? {}) };
      for (const exporter of exporters) {
        try {
          exportsMap[exporter.type] = await exporter.export(
            toStored(v, cert, ctx.issuedBy, clock.now(), exportsMap),
            exportsMap[exporter.type],
            ctx.options.signal,
          );
        } catch (error) {
          exportError ??= error;
          logger.error(`${cert.id}: export ${exporter.type} failed: ${(error as Error).message}`);
        }
      }
      record = toStored(v, cert, ctx.issuedBy, clock.now(), exportsMap);
      version = (await store.write(record, ctx.options.signal)).version;
    } finally {
      await acquired.lease.release().catch((error: unknown) => {
        logger.warn(`${cert.id}: could not release the lease (it expires by itself): ${(error as Error).message}`);
      });
    }
    logger.info(`${cert.id}: imported serial ${serial} from ${v.found.source}`);
    const imported: ImportResult = {
      ...result,
      status: 'imported',
      store: { type: store.type, ref: store.ref, version },
      ...(record.exports ? { exports: record.exports } : {}),
    };
    if (exportError) {
      const info = toErrorInfo(
        new StoreError(`stored the certificate, but an export failed: ${(exportError as Error).message}`, {
          cause: exportError,
          hint: 'fix the export target and import again: the same serial is exported then, nothing else changes',
        }),
      );
      return { ...imported, status: 'failed', error: info };
    }
    if (ctx.options.hooks) {
      const hooks = await runImportHooks(cert, record, previous, imported, ctx);
      if (hooks.length) imported.hooks = hooks;
    }
    return imported;
  } catch (error) {
    const info = toErrorInfo(error);
    logger.error(`${cert.id}: import failed [${info.class}] ${info.message}`);
    return { ...result, status: 'failed', error: info };
  }
}

/** Deploy hooks see an import as a renewal: a new certificate is in the store. */
async function runImportHooks(
  cert: CertificateConfig,
  written: StoredCertificate,
  previous: StoredCertificate | undefined,
  result: ImportResult,
  ctx: OneCtx,
): Promise<HookResult[]> {
  const hooks = await ctx.deps.adapters.hooks(cert);
  if (hooks.length === 0) return [];
  const event = buildEvent(
    'certificate.renewed',
    {
      certificate: cert.id,
      domains: written.domains,
      serialNumber: written.serialNumber,
      notBefore: written.notBefore,
      notAfter: written.notAfter,
      ...(previous ? { previous: { serialNumber: previous.serialNumber, notAfter: previous.notAfter } } : {}),
      ...(result.store ? { store: result.store } : {}),
    },
    { clock: ctx.deps.clock },
  );
  return runHooks(
    hooks,
    event,
    {
      pems: {
        certificate: written.certificate,
        chain: written.chain,
        fullchain: written.fullchain,
        privateKey: written.privateKey,
      },
    },
    { logger: ctx.deps.logger, ...(ctx.options.signal ? { signal: ctx.options.signal } : {}) },
  );
}
