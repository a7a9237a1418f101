import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerSecret } from '../secrets-guard.js';
import { startZoneDns, type ZoneDns, type ZoneRecord, type ZoneSnapshot } from '../zone-dns.js';

/**
 * A fake Cloudflare API v4 (the DNS part), written from Cloudflare's API reference and the
 * official SDK's request shapes, so the real `cloudflare` SDK can be pointed at it
 * (CLOUDFLARE_BASE_URL) and a client that would fail against Cloudflare fails here:
 *
 * - `GET /zones` (`name` with Cloudflare's `equal:`/`not_equal:`/`starts_with:`/`ends_with:`/
 *   `contains:` operators, `status`, `page`, `per_page` 5–50 default 20, `order`, `direction`),
 *   `GET /zones/:zone_id`;
 * - `GET|POST /zones/:zone_id/dns_records` (filters `type`, `name` / `name.exact|contains|startswith|
 *   endswith`, `content` / `content.…`, `match=all|any`, case-insensitive as documented; `page`,
 *   `per_page` default 100), `GET|DELETE /zones/:zone_id/dns_records/:id`;
 * - the `{ success, errors: [{ code, message, error_chain? }], messages, result, result_info }`
 *   envelope, `result_info` = `{ page, per_page, count, total_count, total_pages }`;
 * - Bearer tokens with per-token zone visibility and grants (Zone Read, DNS Read/Edit); errors as
 *   Cloudflare sends them: 9106 (no credentials, 400), 6003 + 6111 (malformed Authorization, 400),
 *   10000 "Authentication error" (unknown token or a zone outside its grants, 403), 7003 (bad or
 *   unknown object id, 400), 7000 (no route, 404), 1004 "DNS Validation Error" with an error_chain,
 *   81058 "An identical record already exists.", 81044 "Record does not exist." (404),
 *   81053/81054 CNAME conflicts, 971 + `Retry-After` on 429 once a test sets a budget;
 * - record names as Cloudflare treats them: `@` is the apex, a name not ending in the zone gets
 *   the zone appended (so writing into the wrong zone shows up as a wrong name, as it would);
 * - TXT content kept as sent (quoted character-strings, or unquoted as older records are) and
 *   served over DNS the way Cloudflare serves it (quoted: its strings; unquoted: one string, split
 *   at 255 bytes) by `zone-dns.ts`, with SOA and NS per active zone, so Pebble validates through it.
 *
 * Not modelled: accounts and `account.id` filters, API keys (X-Auth-Key/X-Auth-Email), batch and
 * PATCH/PUT of records, proxied records, tags and comment filters, shadowed records, per-plan TTL
 * minimums (always 60, or 1 = auto), the 4,096-byte wire and 8,192-character per-name limits,
 * Cloudflare's propagation delay (records are served at once), zone creation through the API,
 * and the exact error_chain codes inside 1004 (approximations).
 */

export type ZoneStatus = 'active' | 'pending' | 'initializing' | 'moved';

export interface FakeZone {
  id: string;
  name: string;
  status: ZoneStatus;
  paused: boolean;
  type: 'full';
  name_servers: string[];
  original_name_servers: string[] | null;
  account: { id: string; name: string };
  permissions: string[];
  created_on: string;
  modified_on: string;
  activated_on: string | null;
}

export interface FakeRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxiable: boolean;
  proxied: boolean;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  data?: { flags: number; tag: string; value: string };
  created_on: string;
  modified_on: string;
}

export interface TokenGrant {
  /** Zone names the token is scoped to; default every zone. */
  zones?: 'all' | string[];
  /** Zone → Zone → Read (list and read zones). Default true. */
  zoneRead?: boolean;
  /** Zone → DNS: `edit` (default), `read` or `none`. */
  dns?: 'edit' | 'read' | 'none';
}

export interface RequestLogEntry {
  method: string;
  /** Path below /client/v4, e.g. `/zones/<id>/dns_records`. */
  path: string;
  query: string;
  status: number;
}

export interface FakeCloudflareOptions {
  /** Time for the rate-limit window, e.g. a test's fake clock (default Date.now). */
  now?: () => number;
}

export interface FakeCloudflare {
  /** `http://127.0.0.1:<port>/client/v4`, for CLOUDFLARE_BASE_URL. */
  baseUrl: string;
  /** The DNS server serving the active zones' records. */
  dns: ZoneDns;
  /** CLOUDFLARE_BASE_URL (and CLOUDFLARE_API_TOKEN when a token is given). */
  env(token?: string): Record<string, string>;
  addZone(name: string, opts?: { status?: ZoneStatus; nameServers?: string[] }): FakeZone;
  /** A new API token (registered with the secrets guard) with these grants. */
  addToken(grant?: TokenGrant): string;
  /** A record added behind the API's back (CAA, CNAME, a foreign TXT value, a legacy unquoted TXT). */
  addRecord(
    zoneName: string,
    rec: { type: string; name: string; content?: string; ttl?: number; data?: FakeRecord['data'] },
  ): FakeRecord;
  records(filter?: { zone?: string; name?: string; type?: string }): FakeRecord[];
  /** The TXT texts (character-strings joined) the API holds at `name`, as DNS serves them. */
  txtValues(name: string): string[];
  /** 429 once a token sent `requests` within `windowMs` (Cloudflare: 1,200 per 300,000). */
  setBudget(budget: { requests: number; windowMs: number } | undefined): void;
  readonly requests: RequestLogEntry[];
  /** Requests matching a method and/or path pattern (answered ones, 429s included). */
  count(filter?: { method?: string; path?: RegExp }): number;
  stop(): Promise<void>;
}

const PREFIX = '/client/v4';
const ID = /^[0-9a-f]{32}$/;
const TOKEN = /^[A-Za-z0-9_-]{40}$/;
const DEFAULT_NS = ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'];

interface CfError {
  code: number;
  message: string;
  error_chain?: CfError[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: CfError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((e) => `${e.code} ${e.message}`).join('; '));
  }
}

/** Records as the API shows them: `zone_id` and `zone_name` are no longer part of the reference's record. */
function publicRecord(r: FakeRecord): Omit<FakeRecord, 'zone_id' | 'zone_name'> {
  const { zone_id: _id, zone_name: _name, ...shown } = r;
  return shown;
}

const newId = () => randomBytes(16).toString('hex');
const lower = (s: string) => s.toLowerCase().replace(/\.$/, '');

/** Cloudflare's reading of TXT content: quoted character-strings, else one string cut at 255 bytes. */
export function cloudflareTxtStrings(content: string): Buffer[] {
  const trimmed = content.trim();
  if (trimmed.startsWith('"')) {
    const out: Buffer[] = [];
    for (const m of trimmed.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      const bytes: number[] = [];
      const body = m[1] as string;
      for (let i = 0; i < body.length; i++) {
        const c = body[i] as string;
        if (c === '\\' && /^\d{3}$/.test(body.slice(i + 1, i + 4))) {
          bytes.push(Number(body.slice(i + 1, i + 4)));
          i += 3;
        } else if (c === '\\') {
          bytes.push(...Buffer.from(body[++i] ?? '', 'utf8'));
        } else {
          bytes.push(...Buffer.from(c, 'utf8'));
        }
      }
      out.push(Buffer.from(bytes));
    }
    return out;
  }
  const raw = Buffer.from(content, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < raw.length; i += 255) out.push(raw.subarray(i, i + 255));
  return out.length > 0 ? out : [Buffer.alloc(0)];
}

/** Quotes balanced (outside escapes): Cloudflare's TXT validation since its 2024 change. */
function balancedQuotes(content: string): boolean {
  let quotes = 0;
  for (let i = 0; i < content.length; i++) {
    if (content[i] === '\\') i++;
    else if (content[i] === '"') quotes++;
  }
  return quotes % 2 === 0;
}

const txtText = (content: string) => Buffer.concat(cloudflareTxtStrings(content)).toString('utf8');

export async function startFakeCloudflare(options: FakeCloudflareOptions = {}): Promise<FakeCloudflare> {
  const now = options.now ?? Date.now;
  const zones = new Map<string, FakeZone>();
  const records = new Map<string, FakeRecord>();
  const tokens = new Map<string, Required<TokenGrant>>();
  const requests: RequestLogEntry[] = [];
  const sent = new Map<string, number[]>();
  let budget: { requests: number; windowMs: number } | undefined;
  let serial = 1;
  const account = { id: newId(), name: 'certkeeper test account' };

  const iso = () => new Date().toISOString();
  const zoneByName = (name: string) => [...zones.values()].find((z) => z.name === lower(name));

  function addZone(name: string, opts: { status?: ZoneStatus; nameServers?: string[] } = {}): FakeZone {
    const status = opts.status ?? 'active';
    const zone: FakeZone = {
      id: newId(),
      name: lower(name),
      status,
      paused: false,
      type: 'full',
      name_servers: opts.nameServers ?? DEFAULT_NS,
      original_name_servers: null,
      account,
      permissions: ['#dns_records:edit', '#dns_records:read', '#zone:read'],
      created_on: iso(),
      modified_on: iso(),
      activated_on: status === 'active' ? iso() : null,
    };
    zones.set(zone.id, zone);
    return zone;
  }

  function fullName(zone: FakeZone, name: string): string {
    const n = lower(name);
    if (n === '@' || n === '') return zone.name;
    return n === zone.name || n.endsWith(`.${zone.name}`) ? n : `${n}.${zone.name}`;
  }

  function sameContent(type: string, a: string, b: string): boolean {
    return type === 'TXT' ? txtText(a) === txtText(b) : a.toLowerCase() === b.toLowerCase();
  }

  /** Cloudflare's create: validation, conflicts, identical records. */
  function createRecord(zone: FakeZone, body: Record<string, unknown>): FakeRecord {
    const chain: CfError[] = [];
    const type = typeof body.type === 'string' ? body.type.toUpperCase() : '';
    if (!['A', 'AAAA', 'CNAME', 'TXT', 'CAA', 'MX', 'NS'].includes(type)) {
      chain.push({ code: 9004, message: 'DNS record type is invalid.' });
    }
    if (typeof body.name !== 'string' || body.name.length === 0) {
      chain.push({ code: 9000, message: 'DNS name is invalid.' });
    }
    const ttl = body.ttl === undefined ? 1 : body.ttl;
    if (typeof ttl !== 'number' || !(ttl === 1 || (ttl >= 60 && ttl <= 86400))) {
      chain.push({ code: 9021, message: 'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for automatic.' });
    }
    const data = body.data as FakeRecord['data'] | undefined;
    let content = typeof body.content === 'string' ? body.content : undefined;
    if (type === 'CAA' && content === undefined && data) content = `${data.flags} ${data.tag} "${data.value}"`;
    if (content === undefined || content.length === 0) {
      chain.push({ code: 9005, message: `Content for ${type || 'the'} record is invalid.` });
    } else if (type === 'TXT' && !balancedQuotes(content)) {
      chain.push({ code: 9005, message: 'Content for TXT record is invalid: its quotes are not balanced.' });
    }
    if (chain.length > 0)
      throw new HttpError(400, [{ code: 1004, message: 'DNS Validation Error', error_chain: chain }]);
    const name = fullName(zone, body.name as string);
    const here = [...records.values()].filter((r) => r.zone_id === zone.id && r.name === name);
    if (type !== 'CNAME' && here.some((r) => r.type === 'CNAME')) {
      throw new HttpError(400, [{ code: 81054, message: 'A CNAME record with that host already exists.' }]);
    }
    if (type === 'CNAME' && here.length > 0) {
      throw new HttpError(400, [
        { code: 81053, message: 'An A, AAAA, or CNAME record with that host already exists.' },
      ]);
    }
    if (here.some((r) => r.type === type && sameContent(type, r.content, content as string))) {
      throw new HttpError(400, [{ code: 81058, message: 'An identical record already exists.' }]);
    }
    const record: FakeRecord = {
      id: newId(),
      zone_id: zone.id,
      zone_name: zone.name,
      name,
      type,
      content: content as string,
      ttl: ttl as number,
      proxiable: false,
      proxied: false,
      comment: typeof body.comment === 'string' ? body.comment : null,
      tags: [],
      settings: {},
      meta: {},
      ...(data ? { data } : {}),
      created_on: iso(),
      modified_on: iso(),
    };
    records.set(record.id, record);
    serial++;
    return record;
  }

  function authenticate(req: IncomingMessage): Required<TokenGrant> {
    const header = req.headers.authorization;
    if (!header) {
      throw new HttpError(400, [{ code: 9106, message: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers' }]);
    }
    const m = /^Bearer (\S+)$/.exec(header);
    if (!m || !TOKEN.test(m[1] as string)) {
      throw new HttpError(400, [
        {
          code: 6003,
          message: 'Invalid request headers',
          error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }],
        },
      ]);
    }
    const grant = tokens.get(m[1] as string);
    if (!grant) throw new HttpError(403, [{ code: 10000, message: 'Authentication error' }]);
    return grant;
  }

  function spend(req: IncomingMessage): void {
    if (!budget) return;
    const key = req.headers.authorization ?? '';
    const t = now();
    const recent = (sent.get(key) ?? []).filter((s) => s > t - (budget?.windowMs ?? 0));
    if (recent.length >= budget.requests) {
      const retryAfter = Math.max(1, Math.ceil(((recent[0] as number) + budget.windowMs - t) / 1000));
      sent.set(key, recent);
      throw new HttpError(429, [{ code: 971, message: 'Please wait and consider throttling your request speed' }], {
        'retry-after': String(retryAfter),
      });
    }
    recent.push(t);
    sent.set(key, recent);
  }

  const visible = (grant: Required<TokenGrant>, zone: FakeZone) =>
    grant.zones === 'all' || grant.zones.map(lower).includes(zone.name);

  function zoneFor(grant: Required<TokenGrant>, id: string, rest: string, need: 'zone' | 'dns-read' | 'dns-edit') {
    const zone = ID.test(id) ? zones.get(id) : undefined;
    if (!zone) {
      throw new HttpError(400, [
        { code: 7003, message: `Could not route to /zones/${id}${rest}, perhaps your object identifier is invalid?` },
      ]);
    }
    const allowed =
      visible(grant, zone) &&
      (need === 'zone' ? grant.zoneRead : need === 'dns-read' ? grant.dns !== 'none' : grant.dns === 'edit');
    if (!allowed) throw new HttpError(403, [{ code: 10000, message: 'Authentication error' }]);
    return zone;
  }

  function page<T>(items: T[], q: URLSearchParams, defaults: { perPage: number; max: number }) {
    const perPage = Math.min(
      defaults.max,
      Math.max(5, Number(q.get('per_page') ?? defaults.perPage) || defaults.perPage),
    );
    const pageNo = Math.max(1, Number(q.get('page') ?? 1) || 1);
    const slice = items.slice((pageNo - 1) * perPage, pageNo * perPage);
    return {
      result: slice,
      result_info: {
        page: pageNo,
        per_page: perPage,
        count: slice.length,
        total_count: items.length,
        total_pages: Math.ceil(items.length / perPage),
      },
    };
  }

  /** Cloudflare's zone `name` filter: `[operator:]value`, case-insensitive unless `_case_sensitive`. */
  function zoneNameMatches(filter: string, name: string): boolean {
    const m = /^(equal|not_equal|starts_with|ends_with|contains)(_case_sensitive)?:(.*)$/.exec(filter);
    const op = m?.[1] ?? 'equal';
    const sensitive = Boolean(m?.[2]);
    const want = sensitive ? (m ? (m[3] as string) : filter) : (m ? (m[3] as string) : filter).toLowerCase();
    const have = sensitive ? name : name.toLowerCase();
    switch (op) {
      case 'not_equal':
        return have !== want;
      case 'starts_with':
        return have.startsWith(want);
      case 'ends_with':
        return have.endsWith(want);
      case 'contains':
        return have.includes(want);
      default:
        return have === want;
    }
  }

  function recordFilters(q: URLSearchParams): ((r: FakeRecord) => boolean)[] {
    const filters: ((r: FakeRecord) => boolean)[] = [];
    const type = q.get('type');
    if (type) filters.push((r) => r.type === type.toUpperCase());
    for (const field of ['name', 'content'] as const) {
      const value = (r: FakeRecord) => (field === 'name' ? r.name : r.content).toLowerCase();
      const legacy = q.get(field);
      if (legacy !== null) filters.push((r) => value(r) === lower(legacy));
      const ops: Record<string, (have: string, want: string) => boolean> = {
        exact: (h, w) => h === w,
        contains: (h, w) => h.includes(w),
        startswith: (h, w) => h.startsWith(w),
        endswith: (h, w) => h.endsWith(w),
      };
      for (const [op, test] of Object.entries(ops)) {
        const want = q.get(`${field}.${op}`);
        if (want !== null) filters.push((r) => test(value(r), field === 'name' ? lower(want) : want.toLowerCase()));
      }
    }
    return filters;
  }

  function route(req: IncomingMessage, url: URL, body: unknown): { status?: number; payload: object } {
    const path = url.pathname.slice(PREFIX.length);
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const parts = path.split('/').filter(Boolean);
    if (parts[0] !== 'zones' || parts.length > 4 || (parts.length >= 3 && parts[2] !== 'dns_records')) {
      throw new HttpError(404, [{ code: 7000, message: 'No route for that URI' }]);
    }
    const grant = authenticate(req);
    spend(req);
    const [, zoneId, , recordId] = parts;

    if (parts.length === 1 && method === 'GET') {
      let list = [...zones.values()].filter((z) => visible(grant, z) && grant.zoneRead);
      const name = q.get('name');
      if (name !== null) list = list.filter((z) => zoneNameMatches(name, z.name));
      const status = q.get('status');
      if (status !== null) list = list.filter((z) => z.status === status);
      const order = q.get('order') === 'status' ? 'status' : 'name';
      list.sort((a, b) => a[order].localeCompare(b[order]));
      if (q.get('direction') === 'desc') list.reverse();
      return { payload: page(list, q, { perPage: 20, max: 50 }) };
    }
    if (parts.length === 2 && method === 'GET') {
      return { payload: { result: zoneFor(grant, zoneId as string, '', 'zone') } };
    }
    if (parts.length === 3) {
      if (method === 'GET') {
        const zone = zoneFor(grant, zoneId as string, '/dns_records', 'dns-read');
        const filters = recordFilters(q);
        const any = q.get('match') === 'any';
        const list = [...records.values()]
          .filter((r) => r.zone_id === zone.id)
          .filter((r) => filters.length === 0 || (any ? filters.some((f) => f(r)) : filters.every((f) => f(r))));
        const order = q.get('order');
        if (order && ['type', 'name', 'content', 'ttl'].includes(order)) {
          list.sort((a, b) => String(a[order as keyof FakeRecord]).localeCompare(String(b[order as keyof FakeRecord])));
          if (q.get('direction') === 'desc') list.reverse();
        }
        return { payload: page(list.map(publicRecord), q, { perPage: 100, max: 5_000_000 }) };
      }
      if (method === 'POST') {
        const zone = zoneFor(grant, zoneId as string, '/dns_records', 'dns-edit');
        if (typeof body !== 'object' || body === null) {
          throw new HttpError(400, [{ code: 9207, message: 'Request body is invalid.' }]);
        }
        return { payload: { result: publicRecord(createRecord(zone, body as Record<string, unknown>)) } };
      }
    }
    if (parts.length === 4 && (method === 'GET' || method === 'DELETE')) {
      const zone = zoneFor(
        grant,
        zoneId as string,
        `/dns_records/${recordId}`,
        method === 'GET' ? 'dns-read' : 'dns-edit',
      );
      if (!ID.test(recordId as string)) {
        throw new HttpError(400, [
          {
            code: 7003,
            message: `Could not route to /zones/${zone.id}/dns_records/${recordId}, perhaps your object identifier is invalid?`,
          },
        ]);
      }
      const record = records.get(recordId as string);
      if (!record || record.zone_id !== zone.id) {
        throw new HttpError(404, [{ code: 81044, message: 'Record does not exist.' }]);
      }
      if (method === 'GET') return { payload: { result: publicRecord(record) } };
      records.delete(record.id);
      serial++;
      return { payload: { result: { id: record.id } } };
    }
    throw new HttpError(404, [{ code: 7000, message: 'No route for that URI' }]);
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length === 0) return undefined;
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return null;
    }
  }

  function send(res: ServerResponse, status: number, payload: object, headers: Record<string, string> = {}) {
    const ok = status < 400;
    const envelope = ok
      ? { success: true, errors: [], messages: [], ...payload }
      : { success: false, errors: (payload as { errors: CfError[] }).errors, messages: [], result: null };
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(envelope));
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname,
      query: url.search,
      status: 0,
    };
    void readBody(req).then((body) => {
      try {
        if (!url.pathname.startsWith(`${PREFIX}/`))
          throw new HttpError(404, [{ code: 7000, message: 'No route for that URI' }]);
        const out = route(req, url, body);
        entry.status = out.status ?? 200;
        send(res, entry.status, out.payload);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        entry.status = error.status;
        send(res, error.status, { errors: error.errors }, error.headers);
      } finally {
        requests.push(entry);
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}${PREFIX}`;

  function snapshot(): ZoneSnapshot[] {
    return [...zones.values()]
      .filter((z) => z.status === 'active')
      .map((z) => {
        const own: ZoneRecord[] = [
          {
            name: z.name,
            type: 'SOA',
            ttl: 3600,
            data: {
              mname: z.name_servers[0] ?? DEFAULT_NS[0],
              rname: 'dns.cloudflare.com',
              serial,
              refresh: 10000,
              retry: 2400,
              expire: 604800,
              minimum: 1800,
            },
          },
          ...z.name_servers.map((ns): ZoneRecord => ({ name: z.name, type: 'NS', ttl: 86400, data: ns })),
        ];
        for (const r of records.values()) {
          if (r.zone_id !== z.id) continue;
          const ttl = r.ttl === 1 ? 300 : r.ttl;
          if (r.type === 'TXT') own.push({ name: r.name, type: 'TXT', ttl, data: cloudflareTxtStrings(r.content) });
          else if (r.type === 'CAA' && r.data) own.push({ name: r.name, type: 'CAA', ttl, data: { ...r.data } });
          else if (['CNAME', 'NS', 'A', 'AAAA'].includes(r.type)) {
            own.push({ name: r.name, type: r.type as ZoneRecord['type'], ttl, data: lower(r.content) });
          }
        }
        return { name: z.name, records: own };
      });
  }

  const dns = await startZoneDns({ zones: snapshot, label: 'fake-cloudflare-dns' });

  return {
    baseUrl,
    dns,
    env: (token) => ({ CLOUDFLARE_BASE_URL: baseUrl, ...(token ? { CLOUDFLARE_API_TOKEN: token } : {}) }),
    addZone,
    addToken(grant = {}) {
      // 40 characters of [A-Za-z0-9_-], like Cloudflare's API tokens.
      const token = randomBytes(30).toString('base64url');
      tokens.set(token, { zones: grant.zones ?? 'all', zoneRead: grant.zoneRead ?? true, dns: grant.dns ?? 'edit' });
      registerSecret(token);
      return token;
    },
    addRecord(zoneName, rec) {
      const zone = zoneByName(zoneName);
      if (!zone) throw new Error(`fake cloudflare: no zone ${zoneName}`);
      return createRecord(zone, { ttl: 300, ...rec });
    },
    records(filter = {}) {
      const zone = filter.zone ? zoneByName(filter.zone) : undefined;
      return [...records.values()].filter(
        (r) =>
          (!filter.zone || r.zone_id === zone?.id) &&
          (!filter.name || r.name === lower(filter.name)) &&
          (!filter.type || r.type === filter.type),
      );
    },
    txtValues(name) {
      return [...records.values()]
        .filter((r) => r.type === 'TXT' && r.name === lower(name))
        .map((r) => txtText(r.content));
    },
    setBudget(b) {
      budget = b;
      sent.clear();
    },
    requests,
    count(filter = {}) {
      return requests.filter(
        (r) => (!filter.method || r.method === filter.method) && (!filter.path || filter.path.test(r.path)),
      ).length;
    },
    async stop() {
      await dns.stop();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}
