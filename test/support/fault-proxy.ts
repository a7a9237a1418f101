import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 in front of moto that breaks AWS calls the way AWS breaks them:
 * real-shaped error responses (Route 53's XML `ErrorResponse`, Secrets Manager's JSON `__type`)
 * and, for Route 53, changes that stay PENDING for a few GetChange polls.
 *
 * The SDK is pointed at it the standard way (`AWS_ENDPOINT_URL_ROUTE_53`,
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`), so the adapters under test run unchanged. Every decision
 * comes from a seeded RNG or a counter: the same sequence of calls meets the same faults.
 */

/** One AWS call as the proxy sees it. */
export interface ProxiedCall {
  service: 'route53' | 'secretsmanager' | 'unknown';
  /** The API operation, e.g. `ChangeResourceRecordSets`, `PutSecretValue`. */
  operation: string;
  method: string;
  path: string;
  body: string;
  /** Secrets Manager: `SecretId` or `Name` of the request. */
  secret?: string;
}

/** What to answer instead of moto's answer. */
export interface InjectedFault {
  status: number;
  /** The AWS error code (`Throttling`, `InternalServiceError`, …). */
  code: string;
  message: string;
}

export interface FaultPolicy {
  /** A fault to answer with (the call does not reach moto), or undefined to forward it. */
  fault?(call: ProxiedCall): InjectedFault | undefined;
  /** Rewrites moto's response body (after forwarding). */
  rewrite?(call: ProxiedCall, body: string): string;
}

export interface FaultRecord {
  call: ProxiedCall;
  fault?: InjectedFault;
}

export interface FaultProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Every call, in order, with the fault it got (if any). */
  readonly log: FaultRecord[];
  /** Replaces the policy; `undefined` forwards everything unchanged. */
  setPolicy(policy: FaultPolicy | undefined): void;
  stop(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Route 53's REST paths → operation names (the ones certkeeper uses, and a few neighbours). */
export function route53Operation(method: string, path: string): string {
  const p = path.replace(/\?.*$/, '').replace(/^\/2013-04-01/, '');
  if (/^\/hostedzone\/[^/]+\/rrset\/?$/.test(p)) {
    return method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
  }
  if (/^\/change\/[^/]+$/.test(p)) return 'GetChange';
  if (/^\/hostedzonesbyname\/?$/.test(p)) return 'ListHostedZonesByName';
  if (/^\/hostedzone\/?$/.test(p)) return method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones';
  if (/^\/hostedzone\/[^/]+$/.test(p)) return method === 'DELETE' ? 'DeleteHostedZone' : 'GetHostedZone';
  return `${method} ${p}`;
}

function describe(req: IncomingMessage, body: string): ProxiedCall {
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('secretsmanager.')) {
    let secret: string | undefined;
    try {
      const parsed = JSON.parse(body) as { SecretId?: unknown; Name?: unknown };
      const s = parsed.SecretId ?? parsed.Name;
      if (typeof s === 'string') secret = s;
    } catch {
      // Not JSON: no secret name.
    }
    return {
      service: 'secretsmanager',
      operation: target.slice('secretsmanager.'.length),
      method,
      path,
      body,
      ...(secret ? { secret } : {}),
    };
  }
  if (path.startsWith('/2013-04-01/')) {
    return { service: 'route53', operation: route53Operation(method, path), method, path, body };
  }
  return { service: 'unknown', operation: `${method} ${path}`, method, path, body };
}

const xmlEscape = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);

/** The error response AWS sends for `fault` on `call`'s service (protocol-exact, so the SDK parses it). */
function errorResponse(call: ProxiedCall, fault: InjectedFault): { headers: Record<string, string>; body: string } {
  const requestId = randomUUID();
  if (call.service === 'secretsmanager') {
    return {
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': fault.code,
      },
      body: JSON.stringify({ __type: fault.code, message: fault.message }),
    };
  }
  const type = fault.status >= 500 ? 'Receiver' : 'Sender';
  return {
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">` +
      `<Error><Type>${type}</Type><Code>${xmlEscape(fault.code)}</Code><Message>${xmlEscape(fault.message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

export async function startFaultProxy(target: string, policy?: FaultPolicy): Promise<FaultProxy> {
  const upstream = new URL(target);
  let current = policy;
  const log: FaultRecord[] = [];
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const call = describe(req, raw.toString('utf8'));
    const fault = current?.fault?.(call);
    log.push({ call, ...(fault ? { fault } : {}) });
    if (fault) {
      const { headers, body } = errorResponse(call, fault);
      res.writeHead(fault.status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) continue;
      headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const answer = await fetch(new URL(req.url ?? '/', upstream), {
      method: req.method ?? 'GET',
      headers,
      ...(raw.length > 0 ? { body: raw } : {}),
    });
    let body = Buffer.from(await answer.arrayBuffer());
    if (current?.rewrite) body = Buffer.from(current.rewrite(call, body.toString('utf8')));
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'].includes(k)) {
        out[k] = v;
      }
    });
    out['content-length'] = String(body.length);
    res.writeHead(answer.status, out);
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault-proxy: ${error.message}`);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    setPolicy(p) {
      current = p;
    },
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const s of sockets) s.destroy();
      }),
  };
}

export const THROTTLING: InjectedFault = { status: 400, code: 'Throttling', message: 'Rate exceeded' };
export const PRIOR_REQUEST_NOT_COMPLETE: InjectedFault = {
  status: 400,
  code: 'PriorRequestNotComplete',
  message: 'The request was rejected because Route 53 was still processing a prior request.',
};
export const INTERNAL_SERVICE_ERROR: InjectedFault = {
  status: 500,
  code: 'InternalServiceError',
  message: 'An error occurred on the server side.',
};

export interface Route53FaultOptions {
  seed: number;
  /** Share of the targeted calls answered with an error (default 1/3). */
  rate?: number;
  /** Operations that may fail (default: the four certkeeper's provider depends on). */
  operations?: string[];
  /** Never more than this many faults in a row for the same request (default 2): bounded, so never flaky. */
  maxConsecutive?: number;
  /** GetChange answers PENDING this many times per change before INSYNC (default 2). */
  pendingPolls?: number;
  /**
   * The first call of each targeted operation fails (ChangeResourceRecordSets with
   * PriorRequestNotComplete, the others with Throttling), so every kind of fault is met whatever
   * the order of concurrent calls (default true).
   */
  failFirstOfEach?: boolean;
}

export interface Route53FaultPolicy extends FaultPolicy {
  /** Faults injected so far, by error code. */
  readonly injected: Record<string, number>;
  /** Changes rewritten to PENDING, and the PENDING answers given to GetChange. */
  readonly pending: { changes: number; polls: number };
}

/**
 * About a third of ChangeResourceRecordSets, ListResourceRecordSets, GetChange and
 * ListHostedZonesByName answered with `Throttling` ("Rate exceeded", 400) or — for changes, which
 * is where Route 53 says it — `PriorRequestNotComplete`; and every change PENDING for the first
 * `pendingPolls` GetChange polls (moto always answers INSYNC at once).
 */
export function route53Faults(options: Route53FaultOptions): Route53FaultPolicy {
  const random = seededRandom(options.seed);
  const rate = options.rate ?? 1 / 3;
  const operations = new Set(
    options.operations ?? ['ChangeResourceRecordSets', 'ListResourceRecordSets', 'GetChange', 'ListHostedZonesByName'],
  );
  const maxConsecutive = options.maxConsecutive ?? 2;
  const pendingPolls = options.pendingPolls ?? 2;
  const failFirstOfEach = options.failFirstOfEach ?? true;
  const seenOps = new Set<string>();
  const streak = new Map<string, number>();
  const polls = new Map<string, number>();
  let changes = 0;
  const injected: Record<string, number> = {};
  const pending = { changes: 0, polls: 0 };
  const key = (call: ProxiedCall) => `${call.method} ${call.path} ${call.body}`;
  return {
    injected,
    pending,
    fault(call) {
      if (call.service !== 'route53' || !operations.has(call.operation)) return undefined;
      const k = key(call);
      const first = failFirstOfEach && !seenOps.has(call.operation);
      seenOps.add(call.operation);
      const roll = first ? 0 : random();
      const choice = first ? 0 : random();
      if (roll >= rate || (streak.get(k) ?? 0) >= maxConsecutive) {
        streak.delete(k);
        return undefined;
      }
      streak.set(k, (streak.get(k) ?? 0) + 1);
      const fault =
        call.operation === 'ChangeResourceRecordSets' && choice < 0.5 ? PRIOR_REQUEST_NOT_COMPLETE : THROTTLING;
      injected[fault.code] = (injected[fault.code] ?? 0) + 1;
      return fault;
    },
    rewrite(call, body) {
      if (call.service !== 'route53' || pendingPolls === 0) return body;
      const id = /<Id>(?:\/change\/)?([^<]+)<\/Id>/.exec(body)?.[1];
      if (!id) return body;
      if (call.operation === 'ChangeResourceRecordSets') {
        // moto gives every change the same id (and echoes any id to GetChange): make each unique.
        const unique = `CKFAULT${String(++changes).padStart(6, '0')}`;
        polls.set(unique, 0);
        pending.changes++;
        return body
          .replace(/<Id>[^<]*<\/Id>/, `<Id>/change/${unique}</Id>`)
          .replace('<Status>INSYNC</Status>', '<Status>PENDING</Status>');
      }
      if (call.operation === 'GetChange') {
        const seen = polls.get(id);
        if (seen === undefined || seen >= pendingPolls) return body;
        polls.set(id, seen + 1);
        pending.polls++;
        return body.replace('<Status>INSYNC</Status>', '<Status>PENDING</Status>');
      }
      return body;
    },
  };
}

/**
 * Secrets Manager failing with 500 InternalServiceError for the first `count` calls that `match`
 * (`Infinity`: always). Calls that do not match are forwarded.
 */
export function failFirst(
  count: number,
  match: (call: ProxiedCall) => boolean,
  fault: InjectedFault = INTERNAL_SERVICE_ERROR,
): FaultPolicy & { readonly failed: number } {
  let failed = 0;
  return {
    get failed() {
      return failed;
    },
    fault(call) {
      if (!match(call) || failed >= count) return undefined;
      failed++;
      return fault;
    },
  };
}
