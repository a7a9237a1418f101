import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { registerSecret } from '../secrets-guard.js';
import { startZoneDns, type ZoneDns, type ZoneRecord, type ZoneSnapshot } from '../zone-dns.js';
import { readBody, sendJson, startHttpsFake, trustingAgent } from './tls.js';

/**
 * A fake Google Cloud DNS (dns.googleapis.com v1 REST), written from the published reference, for
 * the real `@google-cloud/dns` SDK and google-auth-library to talk to over HTTPS:
 * - managedZones.list (`dnsName`, `maxResults`, `pageToken`/`nextPageToken`), managedZones.get;
 * - resourceRecordSets.list (`name`, `type` — `type` only with `name` —, `maxResults`, `pageToken`);
 * - changes.create: atomic; every deletion must match the current rrset exactly (TTL and rrdatas)
 *   or 412 conditionNotMet, a deletion of an absent rrset is 404 notFound, an addition of a
 *   present one 409 alreadyExists; nothing applies unless all do; IAM per rrset action (create,
 *   update = deleted and re-added, delete); changes.get. A change is `pending` when created and
 *   until `pending.ms` have passed (and `pending.polls` changes.get have seen it so), then `done`;
 *   only then do its records appear in the fake's DNS answers (the API's rrsets show it at once,
 *   as Cloud DNS does);
 * - error bodies `{ error: { code, message, errors: [{ message, domain, reason }], status } }`;
 * - credentials: the STS token exchange (`/v1/token`, RFC 8693) for `external_account` files,
 *   service account impersonation (`…:generateAccessToken`), and GitHub's OIDC token endpoint
 *   (what `ACTIONS_ID_TOKEN_REQUEST_URL` answers), so workload identity federation from GitHub runs
 *   for real; the API refuses anything but a token the fake issued (401 authError), and checks the
 *   principal's permissions (403 forbidden).
 * Its zones are served over DNS (UDP + TCP) by test/support/zone-dns.ts, so Pebble validates
 * through it.
 *
 * Not modelled: DNSSEC, routing policies, response policies, zone creation/deletion over the API,
 * quota accounting (429 only when injected), per-zone IAM bindings (permissions are per principal,
 * project-wide), record types other than what a test puts in, changes.list, `clientOperationId`,
 * the `ETag` fields, service account key files (the auth library sends those to a fixed Google URL).
 */

export interface FakeManagedZone {
  /** Resource name, e.g. `example-com`. */
  name: string;
  /** With or without the trailing dot. */
  dnsName: string;
  visibility?: 'public' | 'private';
  nameServers?: string[];
}

export interface GoogleCloudDnsFakeOptions {
  project: string;
  zones: FakeManagedZone[];
  /** How long a new change stays pending (default: only in the answer that created it). */
  pending?: { polls?: number; ms?: number };
  /** Items per page of the list methods (Cloud DNS decides by itself; small here to exercise paging). */
  pageSize?: number;
}

interface RRSet {
  name: string;
  type: string;
  ttl: number;
  rrdatas: string[];
}

interface ChangeRec {
  kind: 'dns#change';
  id: string;
  startTime: string;
  status: 'pending' | 'done';
  additions: RRSet[];
  deletions: RRSet[];
  createdAt: number;
  gets: number;
}

interface ZoneState {
  meta: Required<FakeManagedZone> & { id: string; creationTime: string };
  /** What the API shows: every accepted change applied. */
  rrsets: Map<string, RRSet>;
  /** What the name servers serve: only `done` changes applied. */
  served: Map<string, RRSet>;
  changes: ChangeRec[];
}

export const DNS_PERMISSIONS = [
  'dns.managedZones.list',
  'dns.managedZones.get',
  'dns.resourceRecordSets.list',
  'dns.resourceRecordSets.create',
  'dns.resourceRecordSets.update',
  'dns.resourceRecordSets.delete',
  'dns.changes.create',
  'dns.changes.get',
] as const;

export interface ExternalAccountOptions {
  /** `file`: the OIDC token in a file; `url`: fetched from the GitHub OIDC endpoint, as google-github-actions/auth writes it. */
  source?: 'file' | 'url';
  /** Exchange the federated token for a service account's (service_account_impersonation_url). */
  impersonate?: boolean;
  /** Audience written into the file (default: the fake's workload identity provider). */
  audience?: string;
  /** Subject token to put in the file instead of a valid one. */
  subjectToken?: string;
}

export interface GoogleCloudDnsFake {
  /** https://127.0.0.1:<port> — the `endpoint` option. */
  endpoint: string;
  project: string;
  dns: ZoneDns;
  /** API calls by method (`managedZones.list`, `changes.create`, `sts.token`, …), in order. */
  calls: string[];
  /** The workload identity provider's audience. */
  audience: string;
  /** The principal a federated token stands for, and the impersonated service account. */
  federatedPrincipal: string;
  serviceAccount: string;
  /** Permissions of a principal (default: all of DNS_PERMISSIONS). */
  permissions: Map<string, Set<string>>;
  /** Principals allowed to impersonate the service account (default: the federated one). */
  impersonators: Set<string>;
  /** GitHub Actions' OIDC request URL and bearer token (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN). */
  github: { requestUrl: string; requestToken: string };
  /** Writes an external_account credentials file (and the token file it reads) into `dir`. */
  externalAccountFile(dir: string, options?: ExternalAccountOptions): Promise<string>;
  /** TXT values at `name` as the API shows them (any zone). */
  txtValues(name: string): string[];
  /** The rrset as the API shows it. */
  rrset(name: string, type?: string): RRSet | undefined;
  /** A foreign writer: sets (or with no values removes) an rrset directly, as another client's applied change would. */
  setRrset(name: string, type: string, rrdatas: string[], ttl?: number): void;
  /** Runs `fn` right before the next changes.create is checked (e.g. a second writer slipping in). */
  beforeNextChange(fn: () => void | Promise<void>): void;
  /** Answers the next request to `method` with this error instead. */
  failNext(method: string, status: number, reason: string, message: string): void;
  /** Changes created so far in zone `zoneName`, oldest first. */
  changes(zoneName: string): ChangeRec[];
  stop(): Promise<void>;
}

const norm = (n: string) => n.replace(/\.$/, '').toLowerCase();
const abs = (n: string) => `${norm(n)}.`;
const key = (name: string, type: string) => `${norm(name)}|${type.toUpperCase()}`;
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
};

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sendError(res: ServerResponse, e: ApiFailure): void {
  sendJson(
    res,
    e.status,
    {
      error: {
        code: e.status,
        message: e.message,
        errors: [{ message: e.message, domain: 'global', reason: e.reason, ...e.extra }],
        ...(STATUS_NAMES[e.status] ? { status: STATUS_NAMES[e.status] } : {}),
      },
    },
    e.status === 401 ? { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' } : {},
  );
}

/** Cloud DNS keeps TXT rrdatas as quoted character-strings; unquoted input is split on blanks and quoted. */
function normalizeTxt(rrdata: string): string {
  if (/^\s*"/.test(rrdata)) return rrdata.trim();
  return rrdata
    .trim()
    .split(/\s+/)
    .map((w) => `"${w}"`)
    .join(' ');
}

/** The character-strings of a quoted TXT rrdata, as bytes (\" \\ and \DDD decimal escapes). */
function characterStrings(rrdata: string): Buffer[] {
  return [...rrdata.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => {
    const s = m[1] as string;
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\' && /^\d{3}$/.test(s.slice(i + 1, i + 4))) {
        bytes.push(Number(s.slice(i + 1, i + 4)));
        i += 3;
      } else if (s[i] === '\\') {
        bytes.push(...Buffer.from(s[++i] ?? ''));
      } else {
        bytes.push(...Buffer.from(s[i] as string));
      }
    }
    return Buffer.from(bytes);
  });
}

const sameSet = (a: RRSet, b: RRSet) =>
  a.ttl === b.ttl &&
  a.rrdatas.length === b.rrdatas.length &&
  [...a.rrdatas].sort().join('\n') === [...b.rrdatas].sort().join('\n');

/** Every credential the fakes of this process issued (tokens, OIDC JWTs), to assert none is ever printed. */
export const issuedSecrets: string[] = [];

const token = (prefix: string) => {
  const t = `${prefix}${randomBytes(24).toString('base64url')}`;
  registerSecret(t);
  issuedSecrets.push(t);
  return t;
};

export async function startGoogleCloudDnsFake(options: GoogleCloudDnsFakeOptions): Promise<GoogleCloudDnsFake> {
  const pageSize = options.pageSize ?? 50;
  const projectNumber = '123456789012';
  const audience = `//iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/github/providers/github`;
  const federatedPrincipal = `principal://iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/github/subject/repo:acme/infra:ref:refs/heads/main`;
  const serviceAccount = `certkeeper@${options.project}.iam.gserviceaccount.com`;
  const githubRequestToken = token('ghs_req_');
  /** OIDC tokens GitHub issued, by audience requested. */
  const oidcTokens = new Map<string, string>();
  const accessTokens = new Map<string, { principal: string; expires: number }>();
  const permissions = new Map<string, Set<string>>([
    [federatedPrincipal, new Set(DNS_PERMISSIONS)],
    [`serviceAccount:${serviceAccount}`, new Set(DNS_PERMISSIONS)],
  ]);
  const impersonators = new Set([federatedPrincipal]);
  const calls: string[] = [];
  const injected = new Map<string, ApiFailure>();
  let beforeChange: (() => void | Promise<void>) | undefined;
  let changeSeq = 0;
  let zoneSeq = 1000;

  const zones = new Map<string, ZoneState>();
  for (const z of options.zones) {
    const dnsName = abs(z.dnsName);
    const nameServers = z.nameServers ?? ['a', 'b', 'c', 'd'].map((l) => `ns-cloud-${l}1.googledomains.com.`);
    zones.set(z.name, {
      meta: {
        name: z.name,
        dnsName,
        visibility: z.visibility ?? 'public',
        nameServers,
        id: String(++zoneSeq),
        creationTime: new Date().toISOString(),
      },
      rrsets: new Map(),
      served: new Map(),
      changes: [],
    });
  }

  // A change answers `pending` to the request that created it, and is done once `pending.ms` have
  // passed (and, when set, `pending.polls` changes.get have seen it pending), whoever looks next.
  const isDone = (c: ChangeRec) => {
    const p = options.pending ?? {};
    if (p.polls !== undefined && c.gets < p.polls) return false;
    return Date.now() - c.createdAt >= (p.ms ?? 0);
  };

  /** Promotes pending changes that are due, in order, onto what the name servers serve. */
  const settle = (zone: ZoneState) => {
    for (const c of zone.changes) {
      if (c.status === 'done') continue;
      if (!isDone(c)) break;
      for (const d of c.deletions) zone.served.delete(key(d.name, d.type));
      for (const a of c.additions) zone.served.set(key(a.name, a.type), a);
      c.status = 'done';
    }
  };

  const zoneHolding = (name: string) =>
    [...zones.values()]
      .filter((z) => norm(name) === norm(z.meta.dnsName) || norm(name).endsWith(`.${norm(z.meta.dnsName)}`))
      .sort((a, b) => b.meta.dnsName.length - a.meta.dnsName.length)[0];

  const principalOf = (req: IncomingMessage): string => {
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    const t = m ? accessTokens.get(m[1] as string) : undefined;
    if (!t || t.expires < Date.now()) {
      throw new ApiFailure(
        401,
        'authError',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        { location: 'Authorization', locationType: 'header' },
      );
    }
    return t.principal;
  };

  const need = (principal: string, ...perms: string[]) => {
    const have = permissions.get(principal) ?? new Set<string>();
    if (perms.some((p) => !have.has(p))) throw new ApiFailure(403, 'forbidden', 'Forbidden');
  };

  const page = <T>(items: T[], url: URL): { items: T[]; next?: string } => {
    const max = Math.min(Number(url.searchParams.get('maxResults') ?? pageSize) || pageSize, pageSize);
    const tokenParam = url.searchParams.get('pageToken');
    const start = tokenParam ? Number(Buffer.from(tokenParam, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0)
      throw new ApiFailure(400, 'invalid', "Invalid value for 'parameters.pageToken'");
    const slice = items.slice(start, start + max);
    const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { items: slice, ...(next ? { next } : {}) };
  };

  const zoneJson = (z: ZoneState) => ({ kind: 'dns#managedZone', ...z.meta });
  const rrsetJson = (s: RRSet) => ({ kind: 'dns#resourceRecordSet', ...s });
  const changeJson = (c: ChangeRec) => ({
    kind: c.kind,
    id: c.id,
    startTime: c.startTime,
    status: c.status,
    additions: c.additions.map(rrsetJson),
    deletions: c.deletions.map(rrsetJson),
  });

  const readRrset = (raw: unknown, where: string, zone: ZoneState, addition: boolean): RRSet => {
    const r = raw as Partial<RRSet> | null;
    if (!r || typeof r.name !== 'string' || typeof r.type !== 'string') {
      throw new ApiFailure(400, 'required', `The '${where}.name' parameter is required but was missing.`);
    }
    if (!r.name.endsWith('.')) {
      throw new ApiFailure(400, 'invalid', `Invalid value for '${where}.name': '${r.name}'`);
    }
    const z = norm(zone.meta.dnsName);
    if (norm(r.name) !== z && !norm(r.name).endsWith(`.${z}`)) {
      throw new ApiFailure(
        400,
        'invalid',
        `The resource record set '${where}' is invalid because the DNS name '${r.name}' is not a subdomain of the zone's DNS name '${zone.meta.dnsName}'.`,
      );
    }
    if (!Array.isArray(r.rrdatas) || r.rrdatas.length === 0 || r.rrdatas.some((d) => typeof d !== 'string')) {
      throw new ApiFailure(400, 'required', `The '${where}.rrdata' parameter is required but was missing.`);
    }
    const ttl = r.ttl === undefined ? (addition ? 300 : Number.NaN) : Number(r.ttl);
    if (addition && (!Number.isInteger(ttl) || ttl < 0)) {
      throw new ApiFailure(400, 'invalid', `Invalid value for '${where}.ttl': '${r.ttl}'`);
    }
    const type = r.type.toUpperCase();
    const rrdatas = type === 'TXT' ? r.rrdatas.map(normalizeTxt) : r.rrdatas;
    if (new Set(rrdatas).size !== rrdatas.length) {
      throw new ApiFailure(400, 'invalid', `The resource record set '${where}' has duplicate records.`);
    }
    return { name: abs(r.name), type, ttl, rrdatas };
  };

  async function createChange(zone: ZoneState, principal: string, body: string): Promise<ChangeRec> {
    let parsed: { additions?: unknown[]; deletions?: unknown[] };
    try {
      parsed = JSON.parse(body || '{}');
    } catch {
      throw new ApiFailure(400, 'parseError', 'Parse Error');
    }
    const additions = (parsed.additions ?? []).map((r, i) => readRrset(r, `entity.change.additions[${i}]`, zone, true));
    const deletions = (parsed.deletions ?? []).map((r, i) =>
      readRrset(r, `entity.change.deletions[${i}]`, zone, false),
    );
    if (additions.length === 0 && deletions.length === 0) {
      throw new ApiFailure(400, 'required', "The 'entity.change' parameter is required but was missing.");
    }
    if (beforeChange) {
      const fn = beforeChange;
      beforeChange = undefined;
      await fn();
    }
    // IAM: re-adding a deleted rrset is an update; the rest are creates and deletes.
    const deleted = new Set(deletions.map((d) => key(d.name, d.type)));
    const added = new Set(additions.map((a) => key(a.name, a.type)));
    need(principal, 'dns.changes.create');
    for (const k of added)
      need(principal, deleted.has(k) ? 'dns.resourceRecordSets.update' : 'dns.resourceRecordSets.create');
    for (const k of deleted) if (!added.has(k)) need(principal, 'dns.resourceRecordSets.delete');
    // Atomic: check everything against a copy, then swap it in.
    const next = new Map(zone.rrsets);
    deletions.forEach((d, i) => {
      const cur = next.get(key(d.name, d.type));
      if (!cur) {
        throw new ApiFailure(
          404,
          'notFound',
          `The 'entity.change.deletions[${i}]' resource named '${d.name} (${d.type})' does not exist.`,
        );
      }
      if (!sameSet(cur, d)) {
        throw new ApiFailure(412, 'conditionNotMet', `Precondition not met for 'entity.change.deletions[${i}]'`);
      }
      next.delete(key(d.name, d.type));
    });
    additions.forEach((a, i) => {
      if (next.has(key(a.name, a.type))) {
        throw new ApiFailure(
          409,
          'alreadyExists',
          `The resource 'entity.change.additions[${i}]' named '${a.name} (${a.type})' already exists`,
        );
      }
      next.set(key(a.name, a.type), a);
    });
    zone.rrsets = next;
    const change: ChangeRec = {
      kind: 'dns#change',
      id: String(++changeSeq),
      startTime: new Date().toISOString(),
      status: 'pending',
      additions,
      deletions,
      createdAt: Date.now(),
      gets: 0,
    };
    settle(zone);
    zone.changes.push(change);
    return { ...change };
  }

  async function handleDns(req: IncomingMessage, res: ServerResponse, url: URL, parts: string[]): Promise<void> {
    // parts: [projects, {project}, managedZones, {zone}?, rrsets|changes?, {changeId}?]
    const [, project, collection, zoneName, sub, changeId] = parts;
    const method = req.method ?? 'GET';
    const op =
      zoneName === undefined
        ? 'managedZones.list'
        : sub === undefined
          ? 'managedZones.get'
          : sub === 'rrsets'
            ? 'resourceRecordSets.list'
            : changeId === undefined
              ? method === 'POST'
                ? 'changes.create'
                : 'changes.list'
              : 'changes.get';
    calls.push(op);
    const principal = principalOf(req);
    const fault = injected.get(op);
    if (fault) {
      injected.delete(op);
      throw fault;
    }
    if (collection !== 'managedZones') throw new ApiFailure(404, 'notFound', 'Not Found');
    if (project !== options.project) {
      throw new ApiFailure(404, 'notFound', `The 'parameters.project' resource named '${project}' does not exist.`);
    }
    if (op === 'managedZones.list') {
      need(principal, 'dns.managedZones.list');
      const dnsName = url.searchParams.get('dnsName');
      const all = [...zones.values()].filter((z) => !dnsName || norm(z.meta.dnsName) === norm(dnsName));
      const p = page(all, url);
      return sendJson(res, 200, {
        kind: 'dns#managedZonesListResponse',
        managedZones: p.items.map(zoneJson),
        ...(p.next ? { nextPageToken: p.next } : {}),
      });
    }
    // The API takes a managed zone's name or its numeric id.
    const zone = zones.get(zoneName as string) ?? [...zones.values()].find((z) => z.meta.id === zoneName);
    if (!zone) {
      throw new ApiFailure(
        404,
        'notFound',
        `The 'parameters.managedZone' resource named '${zoneName}' does not exist.`,
      );
    }
    if (op === 'managedZones.get') {
      need(principal, 'dns.managedZones.get');
      return sendJson(res, 200, zoneJson(zone));
    }
    if (op === 'resourceRecordSets.list') {
      need(principal, 'dns.resourceRecordSets.list');
      const name = url.searchParams.get('name');
      const type = url.searchParams.get('type');
      if (type && !name) {
        throw new ApiFailure(400, 'required', "The 'parameters.name' parameter is required but was missing.");
      }
      const all = [...zone.rrsets.values()]
        .filter((s) => (!name || norm(s.name) === norm(name)) && (!type || s.type === type.toUpperCase()))
        .sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
      const p = page(all, url);
      return sendJson(res, 200, {
        kind: 'dns#resourceRecordSetsListResponse',
        rrsets: p.items.map(rrsetJson),
        ...(p.next ? { nextPageToken: p.next } : {}),
      });
    }
    if (op === 'changes.create') {
      const change = await createChange(zone, principal, await readBody(req));
      return sendJson(res, 200, changeJson(change));
    }
    if (op === 'changes.get') {
      need(principal, 'dns.changes.get');
      const change = zone.changes.find((c) => c.id === changeId);
      if (!change) {
        throw new ApiFailure(404, 'notFound', `The 'parameters.changeId' resource named '${changeId}' does not exist.`);
      }
      const seen = change.status;
      settle(zone);
      if (seen === 'pending') change.gets++;
      return sendJson(res, 200, changeJson(change));
    }
    throw new ApiFailure(400, 'badRequest', 'unsupported Cloud DNS operation');
  }

  /** RFC 8693 token exchange, as sts.googleapis.com answers it. */
  async function handleSts(req: IncomingMessage, res: ServerResponse): Promise<void> {
    calls.push('sts.token');
    const form = new URLSearchParams(await readBody(req));
    const oauthError = (status: number, error: string, description: string) =>
      sendJson(res, status, { error, error_description: description });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') {
      return oauthError(400, 'unsupported_grant_type', 'Invalid value for "grant_type".');
    }
    if (form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:access_token') {
      return oauthError(400, 'invalid_request', 'Invalid value for "requested_token_type".');
    }
    if (form.get('audience') !== audience) {
      return oauthError(
        400,
        'invalid_target',
        'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
      );
    }
    const subject = form.get('subject_token') ?? '';
    const known = [...oidcTokens.values()].includes(subject);
    if (form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:jwt' || !known) {
      return oauthError(
        400,
        'invalid_grant',
        'The audience in ID Token [https://github.com/acme] does not match the expected audience.',
      );
    }
    const access = token('ya29.fed_');
    accessTokens.set(access, { principal: federatedPrincipal, expires: Date.now() + 3_600_000 });
    return sendJson(res, 200, {
      access_token: access,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 3599,
    });
  }

  /** iamcredentials.googleapis.com projects.serviceAccounts.generateAccessToken. */
  async function handleImpersonation(req: IncomingMessage, res: ServerResponse, email: string): Promise<void> {
    calls.push('iam.generateAccessToken');
    const body = JSON.parse((await readBody(req)) || '{}') as { scope?: string[]; lifetime?: string };
    const caller = principalOf(req);
    if (email !== serviceAccount || !impersonators.has(caller)) {
      return sendJson(res, 403, {
        error: {
          code: 403,
          message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
          status: 'PERMISSION_DENIED',
        },
      });
    }
    if (!Array.isArray(body.scope) || body.scope.length === 0) {
      return sendJson(res, 400, { error: { code: 400, message: 'Scope required.', status: 'INVALID_ARGUMENT' } });
    }
    const access = token('ya29.sa_');
    accessTokens.set(access, { principal: `serviceAccount:${serviceAccount}`, expires: Date.now() + 3_600_000 });
    return sendJson(res, 200, { accessToken: access, expireTime: new Date(Date.now() + 3_600_000).toISOString() });
  }

  /** GitHub's ACTIONS_ID_TOKEN_REQUEST_URL: `{ value: <OIDC JWT> }` for the requested audience. */
  function handleGithubOidc(req: IncomingMessage, res: ServerResponse, url: URL): void {
    calls.push('github.oidc');
    if (req.headers.authorization !== `Bearer ${githubRequestToken}`) {
      sendJson(res, 401, { message: 'Bad credentials' });
      return;
    }
    const aud = url.searchParams.get('audience') ?? 'https://github.com/acme';
    let jwt = oidcTokens.get(aud);
    if (!jwt) {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'https://token.actions.githubusercontent.com', aud, sub: 'repo:acme/infra:ref:refs/heads/main' })}.${randomBytes(32).toString('base64url')}`;
      registerSecret(jwt);
      issuedSecrets.push(jwt);
      oidcTokens.set(aud, jwt);
    }
    sendJson(res, 200, { count: 1, value: jwt });
  }

  const http = await startHttpsFake(async (req, res) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    try {
      if (url.pathname.startsWith('/dns/v1/')) {
        return await handleDns(req, res, url, url.pathname.slice('/dns/v1/'.length).split('/').map(decodeURIComponent));
      }
      if (url.pathname === '/v1/token' && req.method === 'POST') return await handleSts(req, res);
      const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url.pathname);
      if (m && req.method === 'POST') return await handleImpersonation(req, res, decodeURIComponent(m[1] as string));
      if (url.pathname === '/github/oidc') return handleGithubOidc(req, res, url);
      throw new ApiFailure(404, 'notFound', 'Not Found');
    } catch (error) {
      if (error instanceof ApiFailure) return sendError(res, error);
      throw error;
    }
  });

  const dns = await startZoneDns({
    label: 'google-cloud-dns fake',
    zones: (): ZoneSnapshot[] =>
      [...zones.values()].map((z) => {
        settle(z);
        const apex = norm(z.meta.dnsName);
        const records: ZoneRecord[] = [
          {
            name: apex,
            type: 'SOA',
            ttl: 21600,
            data: {
              mname: norm(z.meta.nameServers[0] ?? `ns.${apex}`),
              rname: 'cloud-dns-hostmaster.google.com',
              serial: z.changes.length + 1,
              refresh: 21600,
              retry: 3600,
              expire: 259200,
              minimum: 300,
            },
          },
          ...z.meta.nameServers.map((ns) => ({ name: apex, type: 'NS' as const, ttl: 21600, data: norm(ns) })),
        ];
        for (const s of z.served.values()) {
          for (const d of s.rrdatas) {
            records.push({
              name: norm(s.name),
              type: s.type as ZoneRecord['type'],
              ttl: s.ttl,
              data: s.type === 'TXT' ? characterStrings(d) : norm(d),
            });
          }
        }
        return { name: apex, private: z.meta.visibility === 'private', records };
      }),
  });

  const values = (name: string) => {
    const s = zoneHolding(name)?.rrsets.get(key(name, 'TXT'));
    return (s?.rrdatas ?? []).map((d) => Buffer.concat(characterStrings(d)).toString('utf8'));
  };

  return {
    endpoint: http.url,
    project: options.project,
    dns,
    calls,
    audience,
    federatedPrincipal,
    serviceAccount,
    permissions,
    impersonators,
    github: { requestUrl: `${http.url}/github/oidc?api-version=2.0`, requestToken: githubRequestToken },
    async externalAccountFile(dir, opts = {}) {
      const aud = 'https://github.com/acme';
      let credentialSource: Record<string, unknown>;
      if ((opts.source ?? 'file') === 'file') {
        let subject = opts.subjectToken;
        if (!subject) {
          // What a workflow step would have fetched from GitHub and written to a file.
          subject = `${randomBytes(20).toString('base64url')}.${randomBytes(40).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
          registerSecret(subject);
          issuedSecrets.push(subject);
          oidcTokens.set(`file:${subject}`, subject);
        }
        const tokenFile = join(dir, `oidc-token-${randomBytes(4).toString('hex')}`);
        await writeFile(tokenFile, subject, { mode: 0o600 });
        credentialSource = { file: tokenFile };
      } else {
        credentialSource = {
          url: `${http.url}/github/oidc?api-version=2.0&audience=${encodeURIComponent(aud)}`,
          headers: { Authorization: `Bearer ${githubRequestToken}` },
          format: { type: 'json', subject_token_field_name: 'value' },
        };
      }
      const file = join(dir, `gha-creds-${randomBytes(4).toString('hex')}.json`);
      await writeFile(
        file,
        JSON.stringify({
          type: 'external_account',
          audience: opts.audience ?? audience,
          subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
          token_url: `${http.url}/v1/token`,
          credential_source: credentialSource,
          ...(opts.impersonate
            ? {
                service_account_impersonation_url: `${http.url}/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`,
              }
            : {}),
        }),
        { mode: 0o600 },
      );
      return file;
    },
    txtValues: values,
    rrset: (name, type = 'TXT') => zoneHolding(name)?.rrsets.get(key(name, type)),
    setRrset(name, type, rrdatas, ttl = 300) {
      const zone = zoneHolding(name);
      if (!zone) throw new Error(`fake: no zone holds ${name}`);
      const k = key(name, type);
      const set = { name: abs(name), type: type.toUpperCase(), ttl, rrdatas: rrdatas.map(normalizeTxt) };
      // Applied and served at once, as another client's finished change would be.
      for (const m of [zone.rrsets, zone.served]) {
        if (rrdatas.length === 0) m.delete(k);
        else m.set(k, set);
      }
    },
    beforeNextChange(fn) {
      beforeChange = fn;
    },
    failNext(method, status, reason, message) {
      injected.set(method, new ApiFailure(status, reason, message));
    },
    changes: (zoneName) => zones.get(zoneName)?.changes ?? [],
    async stop() {
      await Promise.all([http.close(), dns.stop()]);
    },
  };
}

/**
 * Makes the Google SDKs of this test process trust the fake's certificate. Neither offers a way to
 * pass an agent: `@google-cloud/dns` sends through teeny-request, which builds its keep-alive agent
 * itself and keeps it in a module-level pool; google-auth-library (token exchange) sends through
 * node-fetch with Node's global agent. So both get an agent that trusts the system roots plus the
 * fakes' certificate, with verification on. Test-only: product code has no TLS knob.
 */
export async function trustFakeInGoogleSdks(): Promise<void> {
  const agent = await trustingAgent();
  const { pool } = await import('teeny-request/build/src/agents.js');
  pool.set('https:forever', agent);
  https.globalAgent = agent;
}
