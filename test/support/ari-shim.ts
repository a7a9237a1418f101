// @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createSelfSignedCert } from '../../src/devstack/tlscert.js';

/**
 * An ACME CA with ARI (RFC 9773) and profiles (draft-aaron-acme-profiles) in front of Pebble 2.4,
 * which has neither. An HTTPS proxy on 127.0.0.1 that forwards everything to Pebble with its own
 * Host header (Pebble builds every URL from it, and checks the JWS `url` against it, so clients see
 * and sign the shim's URLs only), and adds what Pebble lacks, the way Boulder and newer Pebble do:
 *
 * - the directory gains `renewalInfo` and `meta.profiles` (and `meta.caaIdentities` if asked);
 * - `GET <renewalInfo>/<certID>` answers from a window the test sets per certificate, else with
 *   Pebble's own default (a 2-day window around two thirds of the lifetime), with `Retry-After`;
 *   or fails as asked: no answer (timeout), 5xx, malformed JSON, a window ending before it starts;
 * - new orders: `replaces` and `profile` are read from the JWS payload and recorded. Pebble 2.4
 *   ignores both fields (Go's json.Unmarshal skips unknown ones), so the signed request is forwarded
 *   unchanged. `replaces` is checked as Boulder checks it (known issuer, known serial, same account,
 *   not replaced yet by a finalized order) and can be refused on demand; an unknown profile gets
 *   `invalidProfile`; new orders can be rate limited;
 * - a profile may drop the subject CN and/or set the lifetime (Let's Encrypt's tlsserver: no CN,
 *   45 d; shortlived: no CN, 160 h): the leaf Pebble issued is then re-issued by the shim's own CA
 *   with the same key, serial and names, and served with that CA as its chain.
 *
 * Every request is logged, so a test can prove that a run made none. One shim per test file: it
 * listens on a port of its own and keeps no global state.
 */

const PROBLEM = 'urn:ietf:params:acme:error:';
const DAY = 86_400_000;

export interface ShimProfile {
  /** The description the directory lists for it. */
  description: string;
  /** false: issued without a subject CN (Let's Encrypt's tlsserver and shortlived). Default true. */
  commonName?: boolean;
  /** Lifetime of the certificates it issues (Pebble's own lifetime when absent). */
  validityMs?: number;
}

export interface AriShimOptions {
  /** The Pebble behind the shim. */
  upstream: { acmeDirectory: string; caBundlePem: string };
  /** Advertise `renewalInfo` (default true). */
  ari?: boolean;
  /** Advertise these profiles in `meta.profiles`; orders naming another one get `invalidProfile`. */
  profiles?: Record<string, ShimProfile>;
  /** The profile of an order that names none (Let's Encrypt: classic). */
  defaultProfile?: string;
  caaIdentities?: string[];
}

/** How the shim answers one certificate's renewalInfo. */
export type RenewalInfoAnswer =
  | {
      window: { start: Date | string; end: Date | string };
      explanationURL?: string;
      /** The Retry-After header; null sends none. Default "21600" (6 h, as Let's Encrypt). */
      retryAfter?: string | null;
    }
  /** Never answers (the client's timeout must fire). */
  | { fail: 'timeout' }
  /** An HTTP error with a problem document. */
  | { fail: 'status'; status: number; retryAfter?: string }
  /** 200 with a body that is not JSON. */
  | { fail: 'malformed' };

export type RequestKind =
  | 'directory'
  | 'nonce'
  | 'new-account'
  | 'account'
  | 'new-order'
  | 'order'
  | 'authorization'
  | 'challenge'
  | 'finalize'
  | 'certificate'
  | 'renewal-info'
  | 'other';

export interface ShimRequest {
  method: string;
  path: string;
  kind: RequestKind;
  status?: number;
  /** performance.now() when the shim received it, and when Pebble's answer was sent on. */
  startedMs: number;
  endedMs?: number;
}

export interface ShimOrder {
  identifiers: string[];
  replaces?: string;
  profile?: string;
  account?: string;
  /** What the CA answered: the HTTP status and, for a refusal, its problem type. */
  status: number;
  problem?: string;
  url?: string;
  /** The subject CN of the CSR it was finalized with (null: the CSR had none). */
  csrCommonName?: string | null;
}

export interface ShimCertificate {
  certId: string;
  /** Lowercase hex, as `openssl x509 -serial` prints it (without a leading 00). */
  serial: string;
  pem: string;
  profile?: string;
  account?: string;
  /** Set once an order replacing it is finalized. */
  replacedBy?: string;
}

export type ReplacesRefusal = 'alreadyReplaced' | 'unknownIssuer' | 'unknownSerial' | 'unauthorized' | 'serverInternal';

export interface AriShim {
  /** https://127.0.0.1:<port>/dir */
  directoryUrl: string;
  /** A PEM file trusting the shim (and the Pebble behind it): `acme.caBundle`. */
  caBundlePath: string;
  /** The root of the certificates the shim re-issues for profiles. */
  issuerPem: string;
  readonly requests: ShimRequest[];
  readonly orders: ShimOrder[];
  readonly certificates: ShimCertificate[];
  /** Requests of a kind (all requests when omitted) since the start or the last `resetLog`. */
  count(kind?: RequestKind): number;
  resetLog(): void;
  /** The RFC 9773 id of a certificate, computed here independently of certkeeper's code. */
  certId(pem: string): string;
  /** How to answer renewalInfo for one certificate (by PEM or id); undefined restores the default. */
  setRenewalInfo(certificate: string, answer: RenewalInfoAnswer | undefined): void;
  /** How to answer renewalInfo for every certificate without an answer of its own. */
  setDefaultRenewalInfo(answer: RenewalInfoAnswer | undefined): void;
  /** The next `times` new orders carrying `replaces` are refused so. */
  refuseReplaces(refusal: ReplacesRefusal, times?: number): void;
  /** The next `times` new orders are refused with `rateLimited` (429) and this Retry-After (seconds). */
  rateLimitOrders(times: number, retryAfterSec: number): void;
  stop(): Promise<void>;
}

/** Serial hex (any leading zeros) → the DER INTEGER content bytes of a positive serial. */
function serialDer(hex: string): Buffer {
  let bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first++;
  bytes = bytes.subarray(first);
  return (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** RFC 9773 §4.1 via @peculiar/x509's parser: a second implementation to test certkeeper's against. */
export function independentCertId(pem: string): string {
  const cert = new x509.X509Certificate(pem);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) throw new Error('certificate has no authority key identifier');
  return `${Buffer.from(aki.keyId, 'hex').toString('base64url')}.${serialDer(cert.serialNumber).toString('base64url')}`;
}

function kindOf(path: string): RequestKind {
  const p = path.replace(/\?.*$/, '');
  if (p === '/dir') return 'directory';
  if (p.startsWith('/nonce-plz')) return 'nonce';
  if (p.startsWith('/sign-me-up')) return 'new-account';
  if (p.startsWith('/my-account/')) return 'account';
  if (p.startsWith('/order-plz')) return 'new-order';
  if (p.startsWith('/my-order/')) return 'order';
  if (p.startsWith('/authZ/')) return 'authorization';
  if (p.startsWith('/chalZ/')) return 'challenge';
  if (p.startsWith('/finalize-order/')) return 'finalize';
  if (p.startsWith('/certZ/')) return 'certificate';
  if (p.startsWith('/renewal-info')) return 'renewal-info';
  return 'other';
}

interface Jws {
  protected: { kid?: string };
  payload: Record<string, unknown> | null;
}

function decodeJws(body: Buffer): Jws | undefined {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { protected?: string; payload?: string };
    const header = JSON.parse(Buffer.from(jws.protected ?? '', 'base64url').toString('utf8'));
    const payload = jws.payload ? JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) : null;
    return { protected: header, payload };
  } catch {
    return undefined;
  }
}

/** Pebble's RenewalInfoSimple: a 2-day window centred two thirds into the lifetime, inside it. */
function pebbleDefaultWindow(notBefore: Date, notAfter: Date): { start: Date; end: Date } {
  const validity = notAfter.getTime() + 1000 - notBefore.getTime();
  const ideal = notAfter.getTime() - validity / 3;
  let start = Math.max(ideal - DAY, notBefore.getTime());
  const end = Math.min(ideal + DAY, notAfter.getTime());
  if (!(start < end)) start -= 1000;
  return { start: new Date(start), end: new Date(end) };
}

interface ShimCa {
  pem: string;
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
  aki: x509.AuthorityKeyIdentifierExtension;
}

async function createShimCa(): Promise<ShimCa> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=ARI shim profile CA ${randomBytes(3).toString('hex')}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    pem: `${cert.toString('pem')}\n`,
    cert,
    keys,
    aki: await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
  };
}

/** Pebble's leaf, re-issued by the shim's CA as `profile` shapes it: same key, serial and names. */
async function reissue(ca: ShimCa, leafPem: string, profile: ShimProfile): Promise<string> {
  const leaf = new x509.X509Certificate(leafPem);
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san) throw new Error('Pebble issued a leaf without subjectAltName');
  const cn = leaf.subjectName.getField('CN')[0];
  const notAfter = profile.validityMs ? new Date(leaf.notBefore.getTime() + profile.validityMs - 1000) : leaf.notAfter;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: leaf.serialNumber,
    subject: profile.commonName === false || !cn ? [] : [{ CN: [cn] }],
    issuer: ca.cert.subject,
    notBefore: leaf.notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: leaf.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      // Critical when the subject is empty (RFC 5280 §4.2.1.6).
      new x509.SubjectAlternativeNameExtension(san.names.toJSON(), profile.commonName === false || !cn),
      ca.aki,
    ],
  });
  return `${cert.toString('pem')}\n`;
}

function problemBody(type: string, detail: string, status: number): string {
  return JSON.stringify({ type: `${PROBLEM}${type}`, detail, status });
}

export async function startAriShim(options: AriShimOptions): Promise<AriShim> {
  const upstream = new URL(options.upstream.acmeDirectory);
  const agent = new Agent({ keepAlive: true, ca: options.upstream.caBundlePem });
  const [tls, ca, dir] = await Promise.all([
    createSelfSignedCert(['localhost', '127.0.0.1']),
    createShimCa(),
    mkdtemp(join(tmpdir(), 'ck-ari-shim-')),
  ]);
  const caBundlePath = join(dir, 'ca.pem');
  await writeFile(caBundlePath, tls.certPem + options.upstream.caBundlePem);

  const requests: ShimRequest[] = [];
  const orders: ShimOrder[] = [];
  const certificates: ShimCertificate[] = [];
  const answers = new Map<string, RenewalInfoAnswer>();
  let defaultAnswer: RenewalInfoAnswer | undefined;
  const refusals: ReplacesRefusal[] = [];
  let rateLimited = { times: 0, retryAfterSec: 0 };
  /** Order URL / finalize URL / certificate URL → what the shim knows of that order. */
  const byOrderUrl = new Map<string, { profile?: string; replaces?: string; account?: string; finalize?: string }>();
  const byFinalizeUrl = new Map<string, string>();
  const byCertificatePath = new Map<string, string>();
  const served = new Map<string, string>();
  const knownIssuers = new Set<string>([Buffer.from(ca.aki.keyId as string, 'hex').toString('base64url')]);
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let host = '';

  const certIdOf = (certificate: string) =>
    certificate.includes('-----BEGIN') ? independentCertId(certificate) : certificate;

  function forward(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) {
        if (v === undefined || ['connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k))
          continue;
        out[k] = v;
      }
      out.host = host;
      if (body.length) out['content-length'] = String(body.length);
      const req = httpsRequest(
        { host: upstream.hostname, port: upstream.port, method, path, headers: out, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function freshNonce(): Promise<string | undefined> {
    const res = await forward('HEAD', '/nonce-plz', {}, Buffer.alloc(0));
    const nonce = res.headers['replay-nonce'];
    return typeof nonce === 'string' ? nonce : undefined;
  }

  /** A problem answered by the shim itself, with a fresh nonce as any ACME response carries. */
  async function refuse(
    res: ServerResponse,
    status: number,
    type: string,
    detail: string,
    extra: Record<string, string> = {},
  ) {
    const body = problemBody(type, detail, status);
    const nonce = await freshNonce();
    res.writeHead(status, {
      'content-type': 'application/problem+json',
      'content-length': String(Buffer.byteLength(body)),
      ...(nonce ? { 'replay-nonce': nonce } : {}),
      ...extra,
    });
    res.end(body);
    return status;
  }

  /** Boulder's checks of `replaces` (wfe.go validateReplacementOrder / orderMatchesReplacement). */
  function checkReplaces(
    replaces: string,
    account: string | undefined,
  ): { status: number; type: string; detail: string } | undefined {
    const forced = refusals.shift();
    const prefix = "Could not validate ARI 'replaces' field :: ";
    const [aki, serial] = replaces.split('.');
    if (!aki || !serial || !/^[A-Za-z0-9_-]+$/.test(aki) || !/^[A-Za-z0-9_-]+$/.test(serial)) {
      return { status: 400, type: 'malformed', detail: `${prefix}parsing ARI CertID failed` };
    }
    const serialHex = Buffer.from(serial, 'base64url')
      .toString('hex')
      .replace(/^0+(?=.)/, '');
    const known = certificates.find((c) => c.certId === replaces);
    if (forced === 'unknownIssuer' || (!forced && !knownIssuers.has(aki))) {
      return {
        status: 404,
        type: 'malformed',
        detail: `${prefix}path contained an Authority Key Identifier that did not match a known issuer`,
      };
    }
    if (forced === 'unknownSerial' || (!forced && !known)) {
      return {
        status: 404,
        type: 'malformed',
        detail: `${prefix}request included \`replaces\` field, but no current certificate with serial "${serialHex}" exists`,
      };
    }
    if (forced === 'unauthorized' || (!forced && known && known.account !== account)) {
      return {
        status: 403,
        type: 'unauthorized',
        detail: `${prefix}requester account did not request the certificate being replaced by this order`,
      };
    }
    if (forced === 'alreadyReplaced' || (!forced && known?.replacedBy)) {
      return {
        status: 409,
        type: 'alreadyReplaced',
        detail: `${prefix}cannot indicate an order replaces certificate with serial "${serialHex}", which already has a replacement order`,
      };
    }
    if (forced === 'serverInternal') {
      // Newer Pebble's answer for a certificate it has no order for.
      return { status: 500, type: 'serverInternal', detail: 'could not find an order for the given certificate' };
    }
    return undefined;
  }

  async function renewalInfo(res: ServerResponse, certId: string): Promise<number> {
    const known = certificates.find((c) => c.certId === certId);
    let answer = answers.get(certId) ?? defaultAnswer;
    if (!answer) {
      if (!known) return refuse(res, 404, 'malformed', 'failed to retrieve existing certificate serial');
      const cert = new x509.X509Certificate(known.pem);
      answer = { window: pebbleDefaultWindow(cert.notBefore, cert.notAfter) };
    }
    if ('fail' in answer) {
      if (answer.fail === 'timeout') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return 0;
      }
      if (answer.fail === 'malformed') {
        const body = '{"suggestedWindow": {"start": "2026-';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.end(body);
        return 200;
      }
      const body = problemBody('serverInternal', 'renewal information is unavailable', answer.status);
      res.writeHead(answer.status, {
        'content-type': 'application/problem+json',
        'content-length': String(Buffer.byteLength(body)),
        ...(answer.retryAfter ? { 'retry-after': answer.retryAfter } : {}),
      });
      res.end(body);
      return answer.status;
    }
    const iso = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString());
    const body = JSON.stringify({
      suggestedWindow: { start: iso(answer.window.start), end: iso(answer.window.end) },
      ...(answer.explanationURL ? { explanationURL: answer.explanationURL } : {}),
    });
    const retryAfter = answer.retryAfter === undefined ? '21600' : answer.retryAfter;
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(retryAfter === null ? {} : { 'retry-after': retryAfter }),
    });
    res.end(body);
    return 200;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const kind = kindOf(path);

    if (kind === 'renewal-info') {
      if (options.ari === false) return refuse(res, 404, 'malformed', 'no such resource');
      if (method !== 'GET') return refuse(res, 405, 'malformed', 'renewalInfo is fetched with GET');
      return renewalInfo(res, decodeURIComponent(path.slice('/renewal-info/'.length)));
    }

    const jws = method === 'POST' ? decodeJws(body) : undefined;
    const account = jws?.protected.kid;
    let order: ShimOrder | undefined;
    if (kind === 'new-order' && jws?.payload) {
      const payload = jws.payload as { identifiers?: { value: string }[]; replaces?: unknown; profile?: unknown };
      order = {
        identifiers: (payload.identifiers ?? []).map((i) => i.value),
        ...(typeof payload.replaces === 'string' ? { replaces: payload.replaces } : {}),
        ...(typeof payload.profile === 'string' ? { profile: payload.profile } : {}),
        ...(account ? { account } : {}),
        status: 0,
      };
      orders.push(order);
      if (rateLimited.times > 0) {
        rateLimited.times--;
        order.status = 429;
        order.problem = 'rateLimited';
        return refuse(res, 429, 'rateLimited', 'too many new orders (300) from this account in the last 3h0m0s', {
          'retry-after': String(rateLimited.retryAfterSec),
        });
      }
      if (order.profile !== undefined && options.profiles && !Object.hasOwn(options.profiles, order.profile)) {
        order.status = 400;
        order.problem = 'invalidProfile';
        return refuse(res, 400, 'invalidProfile', `Order includes unrecognized profile name "${order.profile}"`);
      }
      if (order.replaces !== undefined) {
        const refusal = checkReplaces(order.replaces, account);
        if (refusal) {
          order.status = refusal.status;
          order.problem = refusal.type;
          return refuse(res, refusal.status, refusal.type, refusal.detail);
        }
      }
    }

    if (kind === 'finalize' && typeof jws?.payload?.csr === 'string') {
      const orderPath = byFinalizeUrl.get(path);
      const finalized = orders.find((o) => o.url && new URL(o.url).pathname === orderPath);
      const csr = new x509.Pkcs10CertificateRequest(Buffer.from(jws.payload.csr, 'base64url'));
      if (finalized) finalized.csrCommonName = csr.subjectName.getField('CN')[0] ?? null;
    }

    const answer = await forward(method, path, req.headers, body);
    let out = answer.body;
    if (kind === 'directory' && answer.status === 200) {
      const directory = JSON.parse(out.toString('utf8')) as Record<string, unknown> & {
        meta?: Record<string, unknown>;
      };
      if (options.ari !== false) directory.renewalInfo = `https://${host}/renewal-info`;
      const meta: Record<string, unknown> = { ...(directory.meta ?? {}) };
      if (options.profiles) {
        meta.profiles = Object.fromEntries(Object.entries(options.profiles).map(([n, p]) => [n, p.description]));
      }
      if (options.caaIdentities) meta.caaIdentities = options.caaIdentities;
      directory.meta = meta;
      out = Buffer.from(JSON.stringify(directory));
    }
    if (order) {
      order.status = answer.status;
      const location = answer.headers.location;
      if (typeof location === 'string') {
        order.url = location;
        const finalize = (JSON.parse(out.toString('utf8')) as { finalize?: string }).finalize;
        byOrderUrl.set(new URL(location).pathname, {
          profile: order.profile ?? options.defaultProfile,
          ...(order.replaces ? { replaces: order.replaces } : {}),
          ...(account ? { account } : {}),
          ...(finalize ? { finalize } : {}),
        });
        if (finalize) byFinalizeUrl.set(new URL(finalize).pathname, new URL(location).pathname);
      }
    }
    if ((kind === 'order' || kind === 'finalize') && answer.status === 200) {
      const orderPath = kind === 'order' ? path : byFinalizeUrl.get(path);
      const certUrl = (JSON.parse(out.toString('utf8')) as { certificate?: string }).certificate;
      if (orderPath && certUrl) byCertificatePath.set(new URL(certUrl).pathname, orderPath);
    }
    if (kind === 'certificate' && answer.status === 200) {
      const orderPath = byCertificatePath.get(path);
      const info = orderPath ? byOrderUrl.get(orderPath) : undefined;
      const profile = info?.profile ? options.profiles?.[info.profile] : undefined;
      let text = served.get(path);
      if (!text) {
        text = out.toString('utf8');
        const leafPem = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)?.[0] ?? '';
        if (profile && (profile.commonName === false || profile.validityMs))
          text = (await reissue(ca, leafPem, profile)) + ca.pem;
        served.set(path, text);
        const leaf = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)?.[0] ?? '';
        const certId = independentCertId(leaf);
        knownIssuers.add(certId.split('.')[0] as string);
        certificates.push({
          certId,
          serial: new x509.X509Certificate(leaf).serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
          pem: leaf,
          ...(info?.profile ? { profile: info.profile } : {}),
          ...(info?.account ? { account: info.account } : {}),
        });
        // Boulder marks the replaced certificate when the replacing order is finalized; issued is as good.
        if (info?.replaces) {
          const replaced = certificates.find((c) => c.certId === info.replaces);
          if (replaced) replaced.replacedBy = certId;
        }
      }
      out = Buffer.from(text);
    }

    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) {
      if (v === undefined || ['connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k)) continue;
      headers[k] = v;
    }
    headers['content-length'] = String(out.length);
    res.writeHead(answer.status, headers);
    res.end(method === 'HEAD' ? undefined : out);
    return answer.status;
  }

  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const entry: ShimRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      kind: kindOf(req.url ?? '/'),
      startedMs: performance.now(),
    };
    requests.push(entry);
    handle(req, res).then(
      (status) => {
        entry.endedMs = performance.now();
        if (status) entry.status = status;
      },
      (error: Error) => {
        entry.endedMs = performance.now();
        entry.status = 502;
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`ari-shim: ${error.message}`);
      },
    );
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  let stopped: Promise<void> | undefined;
  return {
    directoryUrl: `https://${host}/dir`,
    caBundlePath,
    issuerPem: ca.pem,
    requests,
    orders,
    certificates,
    count: (kind) => (kind ? requests.filter((r) => r.kind === kind).length : requests.length),
    resetLog() {
      requests.length = 0;
      orders.length = 0;
    },
    certId: independentCertId,
    setRenewalInfo(certificate, answer) {
      const id = certIdOf(certificate);
      if (answer) answers.set(id, answer);
      else answers.delete(id);
    },
    setDefaultRenewalInfo(answer) {
      defaultAnswer = answer;
    },
    refuseReplaces(refusal, times = 1) {
      for (let i = 0; i < times; i++) refusals.push(refusal);
    },
    rateLimitOrders(times, retryAfterSec) {
      rateLimited = { times, retryAfterSec };
    },
    stop() {
      stopped ??= new Promise<void>((done) => {
        for (const r of hanging) r.destroy();
        server.close(() => done());
        for (const s of sockets) s.destroy();
        agent.destroy();
      }).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}
