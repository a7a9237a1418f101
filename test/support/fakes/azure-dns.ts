import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { registerSecret } from '../secrets-guard.js';
import { startZoneDns, type ZoneDns, type ZoneRecord, type ZoneSnapshot } from '../zone-dns.js';
import { readBody, sendJson, startHttpsFake, trustingAgent } from './tls.js';

/**
 * A fake Azure DNS (Microsoft.Network/dnsZones, api-version 2018-05-01) behind a fake Azure Resource
 * Manager and a fake Microsoft Entra ID, written from the published REST references, for the real
 * `@azure/arm-dns` and `@azure/identity` (MSAL) to talk to over HTTPS:
 * - Zones List (subscription, resource group; `$top`, `nextLink` with `$skipToken`), Zones Get;
 * - RecordSets Get / CreateOrUpdate / Delete / ListByType (`$top`, `$recordsetnamesuffix`) for TXT,
 *   with ETags: every write makes a new one; `If-Match` must name the current one (or `*` for any
 *   existing set), `If-None-Match: *` refuses an existing set, else 412 PreconditionFailed; 201 on
 *   create, 200 on update, 204 when deleting what is not there; a record set write arriving while
 *   another is in flight can be answered 409 Conflict ("Another operation is pending…", injected);
 * - ARM's checks: `api-version` required and known, Bearer token the fake issued for the ARM
 *   audience (else 401 InvalidAuthenticationToken with a WWW-Authenticate challenge), RBAC per
 *   action (`Microsoft.Network/dnszones/TXT/write`, …; else 403 AuthorizationFailed), 404
 *   SubscriptionNotFound / ResourceGroupNotFound / ParentResourceNotFound / NotFound, CloudError
 *   bodies `{ error: { code, message } }`, 429 with Retry-After (injected);
 * - Entra ID: the tenant's OpenID configuration and the v2.0 token endpoint for the client
 *   credentials grant, with a client secret or a federated client assertion (a GitHub OIDC token,
 *   as AZURE_FEDERATED_TOKEN_FILE holds it); AADSTS error bodies for a wrong secret, an unknown
 *   client, tenant or federated subject.
 * Its zones are served over DNS (UDP + TCP) by test/support/zone-dns.ts, so Pebble validates through it.
 *
 * Not modelled: record types other than TXT over the API (the zone's SOA/NS are served over DNS
 * only), zone creation/deletion, private DNS zones (Microsoft.Network/privateDnsZones; legacy
 * `zoneType: Private` zones are), alias record sets, record set limits (records per set, sets per
 * zone), PATCH, the ARM request-rate budget (429 only when injected), token expiry and
 * certificate credentials, managed identity (IMDS), Azure CLI sign-in, tags/metadata validation.
 */

export interface FakeAzureZone {
  name: string;
  zoneType?: 'Public' | 'Private';
  nameServers?: string[];
}

export interface AzureDnsFakeOptions {
  subscriptionId: string;
  resourceGroup: string;
  zones: FakeAzureZone[];
  /** Items per page of the list methods (ARM decides by itself; small here to exercise paging). */
  pageSize?: number;
}

interface RecordSetState {
  relativeName: string;
  etag: string;
  ttl: number;
  metadata?: Record<string, string>;
  records: string[][];
}

interface ZoneState {
  name: string;
  zoneType: 'Public' | 'Private';
  nameServers: string[];
  etag: string;
  txt: Map<string, RecordSetState>;
}

export const API_VERSION = '2018-05-01';

export const DNS_ACTIONS = [
  'Microsoft.Network/dnszones/read',
  'Microsoft.Network/dnszones/TXT/read',
  'Microsoft.Network/dnszones/TXT/write',
  'Microsoft.Network/dnszones/TXT/delete',
] as const;

export interface AzureDnsFake {
  /** https://127.0.0.1:<port> — the ARM `endpoint` option, and the Entra ID authority host too. */
  endpoint: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  subscriptionId: string;
  resourceGroup: string;
  dns: ZoneDns;
  /** Calls by operation (`zones.list`, `recordSets.get`, `entra.token`, …), in order. */
  calls: string[];
  /** RBAC actions of the client (default: all of DNS_ACTIONS). */
  actions: Set<string>;
  /** Environment for a client secret credential (what EnvironmentCredential reads). */
  secretEnv(): Record<string, string>;
  /** Environment for a federated credential (GitHub OIDC token in a file, what WorkloadIdentityCredential reads). */
  federatedEnv(dir: string, options?: { subject?: string }): Promise<Record<string, string>>;
  /** TXT values at a record name (FQDN) as the API holds them, one per TXT record (its strings joined). */
  txtValues(name: string): string[];
  recordSet(name: string): RecordSetState | undefined;
  /** A foreign writer: replaces (no records: deletes) a TXT record set, with a new ETag. */
  setRecordSet(name: string, records: string[][], ttl?: number, metadata?: Record<string, string>): void;
  /** Runs `fn` right before the next record set write (PUT or DELETE) checks its precondition. */
  beforeNextWrite(fn: () => void | Promise<void>): void;
  /** Answers the next call to `op` with this CloudError instead (and headers, e.g. Retry-After). */
  failNext(op: string, status: number, code: string, message: string, headers?: Record<string, string>): void;
  stop(): Promise<void>;
}

const norm = (n: string) => n.replace(/\.$/, '').toLowerCase();

class ArmFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Every credential the fakes of this process issued (secrets, tokens, OIDC JWTs), to assert none is ever printed. */
export const issuedSecrets: string[] = [];

const secret = (prefix: string) => {
  const s = `${prefix}${randomBytes(24).toString('base64url')}`;
  registerSecret(s);
  issuedSecrets.push(s);
  return s;
};

/** Raw bytes of a TXT string as Azure DNS serves it (the API's strings are sent as they are). */
const toCharacterStrings = (record: string[]) => record.map((s) => Buffer.from(s, 'utf8'));

export async function startAzureDnsFake(options: AzureDnsFakeOptions): Promise<AzureDnsFake> {
  const pageSize = options.pageSize ?? 100;
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const objectId = randomUUID();
  const clientSecret = secret('azs~');
  const federatedSubject = 'repo:acme/infra:ref:refs/heads/main';
  /** GitHub OIDC tokens the fake minted, by subject. */
  const oidcTokens = new Map<string, string>();
  const accessTokens = new Map<string, { audience: string }>();
  const actions = new Set<string>(DNS_ACTIONS);
  const calls: string[] = [];
  const injected = new Map<string, ArmFailure>();
  let beforeWrite: (() => void | Promise<void>) | undefined;
  const rgLower = options.resourceGroup.toLowerCase();

  const zones = new Map<string, ZoneState>();
  for (const z of options.zones) {
    zones.set(norm(z.name), {
      name: norm(z.name),
      zoneType: z.zoneType ?? 'Public',
      nameServers: z.nameServers ?? ['ns1-01.azure-dns.com.', 'ns2-01.azure-dns.net.', 'ns3-01.azure-dns.org.'],
      etag: randomUUID(),
      txt: new Map(),
    });
  }

  let base = '';
  const zoneId = (z: ZoneState) =>
    `/subscriptions/${options.subscriptionId}/resourceGroups/${options.resourceGroup}/providers/Microsoft.Network/dnszones/${z.name}`;
  const zoneJson = (z: ZoneState) => ({
    id: zoneId(z),
    name: z.name,
    type: 'Microsoft.Network/dnszones',
    location: 'global',
    etag: z.etag,
    tags: {},
    properties: {
      maxNumberOfRecordSets: 10000,
      maxNumberOfRecordsPerRecordSet: 20,
      numberOfRecordSets: 2 + z.txt.size,
      nameServers: z.nameServers,
      zoneType: z.zoneType,
    },
  });
  const recordSetJson = (z: ZoneState, s: RecordSetState) => ({
    id: `${zoneId(z)}/TXT/${s.relativeName}`,
    name: s.relativeName,
    type: 'Microsoft.Network/dnszones/TXT',
    etag: s.etag,
    properties: {
      metadata: s.metadata ?? {},
      TTL: s.ttl,
      fqdn: `${s.relativeName === '@' ? '' : `${s.relativeName}.`}${z.name}.`,
      provisioningState: 'Succeeded',
      targetResource: {},
      TXTRecords: s.records.map((value) => ({ value })),
    },
  });

  const audienceOf = (req: IncomingMessage) => {
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    const t = m ? accessTokens.get(m[1] as string) : undefined;
    const challenge = `Bearer authorization_uri="${base}/${tenantId}", error="invalid_token", error_description="The access token is invalid."`;
    if (!t) {
      throw new ArmFailure(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
        'www-authenticate': challenge,
      });
    }
    if (t.audience !== base) {
      throw new ArmFailure(
        401,
        'InvalidAuthenticationToken',
        `The access token has been obtained for wrong audience or resource '${t.audience}'. It should exactly match with one of the allowed audiences '${base}', '${base}/'.`,
        { 'www-authenticate': challenge },
      );
    }
  };

  const authorize = (action: string, scope: string) => {
    if (!actions.has(action)) {
      throw new ArmFailure(
        403,
        'AuthorizationFailed',
        `The client '${clientId}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
  };

  const page = <T>(items: T[], url: URL): { value: T[]; nextLink?: string } => {
    const top = Math.min(Number(url.searchParams.get('$top') ?? pageSize) || pageSize, pageSize);
    const skip = Number(url.searchParams.get('$skipToken') ?? 0);
    const value = items.slice(skip, skip + top);
    if (skip + top >= items.length) return { value };
    const next = new URL(url.toString());
    next.searchParams.set('$skipToken', String(skip + top));
    return { value, nextLink: `${base}${next.pathname}${next.search}` };
  };

  async function handleArm(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    // ARM path segments are case-insensitive; resource names keep their spelling.
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const lower = parts.map((p) => p.toLowerCase());
    const subscriptionLevel =
      lower.length === 5 && lower[2] === 'providers' && lower[3] === 'microsoft.network' && lower[4] === 'dnszones';
    const rgLevel =
      lower[2] === 'resourcegroups' &&
      lower[4] === 'providers' &&
      lower[5] === 'microsoft.network' &&
      lower[6] === 'dnszones';
    const zoneName = rgLevel ? parts[7] : undefined;
    const type = rgLevel ? lower[8] : undefined;
    const relative = rgLevel ? parts[9] : undefined;
    const op = subscriptionLevel
      ? 'zones.listBySubscription'
      : !rgLevel
        ? 'unknown'
        : zoneName === undefined
          ? 'zones.listByResourceGroup'
          : type === undefined
            ? 'zones.get'
            : relative === undefined
              ? 'recordSets.listByType'
              : method === 'PUT'
                ? 'recordSets.createOrUpdate'
                : method === 'DELETE'
                  ? 'recordSets.delete'
                  : 'recordSets.get';
    calls.push(op);
    audienceOf(req);
    const fault = injected.get(op);
    if (fault) {
      injected.delete(op);
      throw fault;
    }
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) {
      throw new ArmFailure(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    if (apiVersion !== API_VERSION) {
      throw new ArmFailure(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location 'global' and API version '${apiVersion}' for type 'dnszones'. The supported api-versions are '2016-04-01, 2017-09-01, 2017-10-01, 2018-03-01-preview, 2018-05-01'.`,
      );
    }
    if (op === 'unknown') throw new ArmFailure(404, 'InvalidResourceType', 'The resource type could not be found.');
    if (lower[0] !== 'subscriptions' || parts[1] !== options.subscriptionId) {
      throw new ArmFailure(404, 'SubscriptionNotFound', `The subscription '${parts[1]}' could not be found.`);
    }
    if (op === 'zones.listBySubscription') {
      authorize('Microsoft.Network/dnszones/read', `/subscriptions/${options.subscriptionId}`);
      return sendJson(res, 200, page([...zones.values()].map(zoneJson), url));
    }
    if ((parts[3] ?? '').toLowerCase() !== rgLower) {
      throw new ArmFailure(404, 'ResourceGroupNotFound', `Resource group '${parts[3]}' could not be found.`);
    }
    const rgScope = `/subscriptions/${options.subscriptionId}/resourceGroups/${parts[3]}`;
    if (op === 'zones.listByResourceGroup') {
      authorize('Microsoft.Network/dnszones/read', rgScope);
      return sendJson(res, 200, page([...zones.values()].map(zoneJson), url));
    }
    const zone = zones.get(norm(zoneName as string));
    const zoneScope = `${rgScope}/providers/Microsoft.Network/dnszones/${zoneName}`;
    if (op === 'zones.get') {
      authorize('Microsoft.Network/dnszones/read', zoneScope);
      if (!zone) {
        throw new ArmFailure(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.Network/dnszones/${zoneName}' under resource group '${parts[3]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      }
      return sendJson(res, 200, zoneJson(zone));
    }
    if (type !== 'txt') {
      throw new ArmFailure(400, 'BadRequest', `The record type '${parts[8]}' is not supported by this fake.`);
    }
    const setScope = `${zoneScope}/TXT${relative === undefined ? '' : `/${relative}`}`;
    authorize(
      method === 'PUT'
        ? 'Microsoft.Network/dnszones/TXT/write'
        : method === 'DELETE'
          ? 'Microsoft.Network/dnszones/TXT/delete'
          : 'Microsoft.Network/dnszones/TXT/read',
      setScope,
    );
    if (!zone) {
      throw new ArmFailure(
        404,
        'ParentResourceNotFound',
        `Can not perform requested operation on nested resource. Parent resource '${zoneName}' not found.`,
      );
    }
    if (op === 'recordSets.listByType') {
      const suffix = url.searchParams.get('$recordsetnamesuffix')?.toLowerCase();
      const sets = [...zone.txt.values()]
        .filter((s) => !suffix || s.relativeName === suffix || s.relativeName.endsWith(`.${suffix}`))
        .sort((a, b) => a.relativeName.localeCompare(b.relativeName));
      return sendJson(
        res,
        200,
        page(
          sets.map((s) => recordSetJson(zone, s)),
          url,
        ),
      );
    }
    const rel = (relative as string).toLowerCase();
    const cur = zone.txt.get(rel);
    if (op === 'recordSets.get') {
      if (!cur) {
        throw new ArmFailure(
          404,
          'NotFound',
          `The resource record '${relative}' does not exist in resource group '${parts[3]}' of subscription '${options.subscriptionId}'.`,
        );
      }
      return sendJson(res, 200, recordSetJson(zone, cur), { etag: cur.etag });
    }
    const body = method === 'PUT' ? await readBody(req) : '';
    if (beforeWrite) {
      const fn = beforeWrite;
      beforeWrite = undefined;
      await fn();
    }
    const now = zone.txt.get(rel);
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifMatch !== undefined && (!now || (ifMatch !== '*' && ifMatch !== now.etag))) {
      throw new ArmFailure(412, 'PreconditionFailed', `The Record set ${relative} has been modified (etag mismatch).`);
    }
    if (method === 'DELETE') {
      if (!now) return sendJson(res, 204, undefined);
      zone.txt.delete(rel);
      return sendJson(res, 200, undefined);
    }
    if (ifNoneMatch === '*' && now) {
      throw new ArmFailure(412, 'PreconditionFailed', "The condition '*' in the If-None-Match header was satisfied.");
    }
    let parsed: { properties?: { TTL?: unknown; TXTRecords?: unknown; metadata?: unknown } };
    try {
      parsed = JSON.parse(body || '{}');
    } catch {
      throw new ArmFailure(
        400,
        'InvalidRequestContent',
        'The request content was invalid and could not be deserialized.',
      );
    }
    const props = parsed.properties;
    if (!props) throw new ArmFailure(400, 'BadRequest', 'The properties of the record set are required.');
    const ttl = props.TTL === undefined ? 3600 : Number(props.TTL);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647) {
      throw new ArmFailure(400, 'BadRequest', `The value '${String(props.TTL)}' of the TTL property is invalid.`);
    }
    const raw = (props.TXTRecords ?? []) as { value?: unknown }[];
    if (
      !Array.isArray(raw) ||
      raw.some(
        (r) => !Array.isArray(r?.value) || (r.value as unknown[]).some((s) => typeof s !== 'string' || s.length > 1024),
      )
    ) {
      throw new ArmFailure(400, 'BadRequest', 'The TXT record set contains an invalid record.');
    }
    const next: RecordSetState = {
      relativeName: rel,
      etag: randomUUID(),
      ttl,
      ...(props.metadata && typeof props.metadata === 'object'
        ? { metadata: props.metadata as Record<string, string> }
        : {}),
      records: raw.map((r) => r.value as string[]),
    };
    zone.txt.set(rel, next);
    return sendJson(res, now ? 200 : 201, recordSetJson(zone, next), { etag: next.etag });
  }

  async function handleEntra(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
    if (!m) return false;
    const [, tenant, what] = m as unknown as [string, string, string];
    const aadError = (status: number, error: string, code: number, description: string): true => {
      sendJson(res, status, {
        error,
        error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
        error_codes: [code],
        timestamp: new Date().toISOString(),
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      });
      return true;
    };
    if (tenant !== tenantId) {
      calls.push(what.startsWith('v2.0') ? 'entra.openid' : 'entra.token');
      return aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (what.startsWith('v2.0')) {
      calls.push('entra.openid');
      sendJson(res, 200, {
        token_endpoint: `${base}/${tenantId}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${base}/${tenantId}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/${tenantId}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${base}/oidc/userinfo`,
        authorization_endpoint: `${base}/${tenantId}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/${tenantId}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/${tenantId}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
      });
      return true;
    }
    calls.push('entra.token');
    if (req.method !== 'POST')
      return aadError(400, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    const form = new URLSearchParams(await readBody(req));
    if (form.get('grant_type') !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.get('client_id') !== clientId) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id')}' was not found in the directory '${tenantId}'.`,
      );
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        return aadError(400, 'invalid_request', 50027, 'Invalid JWT token. The client assertion type is invalid.');
      }
      const subject = [...oidcTokens].find(([, t]) => t === assertion)?.[0];
      if (subject !== federatedSubject) {
        return aadError(
          400,
          'invalid_client',
          700213,
          `No matching federated identity record found for presented assertion subject '${subject ?? 'unknown'}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
        );
      }
    } else if (form.get('client_secret') !== clientSecret) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    const scope = form.get('scope') ?? '';
    const audience = scope
      .split(' ')
      .find((s) => s.endsWith('/.default'))
      ?.replace(/\/\.default$/, '');
    if (!audience) {
      return aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid.`);
    }
    const access = secret('eyJ0eXAiOiJKV1Qi.');
    accessTokens.set(access, { audience });
    sendJson(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: access });
    return true;
  }

  const http = await startHttpsFake(async (req, res) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    try {
      if (url.pathname.toLowerCase().startsWith('/subscriptions/')) return await handleArm(req, res, url);
      if (await handleEntra(req, res, url)) return;
      calls.push(`unknown ${req.method} ${url.pathname}`);
      throw new ArmFailure(404, 'NotFound', `fake: no route for ${url.pathname}`);
    } catch (error) {
      if (!(error instanceof ArmFailure)) throw error;
      return sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
    }
  });
  base = http.url;

  const dns = await startZoneDns({
    label: 'azure-dns fake',
    zones: (): ZoneSnapshot[] =>
      [...zones.values()].map((z) => {
        const records: ZoneRecord[] = [
          {
            name: z.name,
            type: 'SOA',
            ttl: 3600,
            data: {
              mname: norm(z.nameServers[0] ?? `ns.${z.name}`),
              rname: 'azuredns-hostmaster.microsoft.com',
              serial: 1,
              refresh: 3600,
              retry: 300,
              expire: 2419200,
              minimum: 300,
            },
          },
          ...z.nameServers.map((ns) => ({ name: z.name, type: 'NS' as const, ttl: 172800, data: norm(ns) })),
        ];
        for (const s of z.txt.values()) {
          const name = s.relativeName === '@' ? z.name : `${s.relativeName}.${z.name}`;
          for (const r of s.records) records.push({ name, type: 'TXT', ttl: s.ttl, data: toCharacterStrings(r) });
        }
        return { name: z.name, private: z.zoneType === 'Private', records };
      }),
  });

  const locate = (name: string): { zone: ZoneState; rel: string } | undefined => {
    const n = norm(name);
    const zone = [...zones.values()]
      .filter((z) => n === z.name || n.endsWith(`.${z.name}`))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (!zone) return undefined;
    return { zone, rel: n === zone.name ? '@' : n.slice(0, -(zone.name.length + 1)) };
  };

  return {
    endpoint: http.url,
    authorityHost: http.url,
    tenantId,
    clientId,
    subscriptionId: options.subscriptionId,
    resourceGroup: options.resourceGroup,
    dns,
    calls,
    actions,
    secretEnv: () => ({ AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: clientSecret }),
    async federatedEnv(dir, opts = {}) {
      const subject = opts.subject ?? federatedSubject;
      let jwt = oidcTokens.get(subject);
      if (!jwt) {
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'https://token.actions.githubusercontent.com', aud: 'api://AzureADTokenExchange', sub: subject })}.${randomBytes(32).toString('base64url')}`;
        registerSecret(jwt);
        issuedSecrets.push(jwt);
        oidcTokens.set(subject, jwt);
      }
      const file = join(dir, `azure-identity-token-${randomBytes(4).toString('hex')}`);
      await writeFile(file, jwt, { mode: 0o600 });
      return { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_FEDERATED_TOKEN_FILE: file };
    },
    txtValues(name) {
      const at = locate(name);
      return (at?.zone.txt.get(at.rel)?.records ?? []).map((r) => r.join(''));
    },
    recordSet(name) {
      const at = locate(name);
      return at?.zone.txt.get(at.rel);
    },
    setRecordSet(name, records, ttl = 3600, metadata) {
      const at = locate(name);
      if (!at) throw new Error(`fake: no zone holds ${name}`);
      if (records.length === 0) at.zone.txt.delete(at.rel);
      else {
        at.zone.txt.set(at.rel, {
          relativeName: at.rel,
          etag: randomUUID(),
          ttl,
          ...(metadata ? { metadata } : {}),
          records,
        });
      }
    },
    beforeNextWrite(fn) {
      beforeWrite = fn;
    },
    failNext(op, status, code, message, headers = {}) {
      injected.set(op, new ArmFailure(status, code, message, headers));
    },
    async stop() {
      await Promise.all([http.close(), dns.stop()]);
    },
  };
}

/** The SDKs' HTTP client, trusting the fake's certificate (the SDKs' own `httpClient` injection point). */
export async function trustingAzureHttpClient(): Promise<HttpClient> {
  const agent = await trustingAgent();
  const inner = createDefaultHttpClient();
  return {
    sendRequest(request) {
      request.agent = agent;
      return inner.sendRequest(request);
    },
  };
}
