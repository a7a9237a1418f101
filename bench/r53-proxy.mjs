// Route 53 in front of moto with the latency the real one has: every change stays PENDING for
// `pendingMs` after it was submitted (moto answers INSYNC at once). Used by the fleet section.
//
// Two ways in, one behaviour:
//  - plain HTTP, path-style, for certkeeper (SDK v3): AWS_ENDPOINT_URL_ROUTE_53=http://127.0.0.1:<port>;
//  - as an HTTPS forward proxy for lego 4.9 (aws-sdk-go v1, which has no endpoint override in the
//    environment): HTTPS_PROXY=http://127.0.0.1:<port>. A CONNECT to route53.amazonaws.com:443 is
//    answered with TLS terminated here, with a certificate for that name that lego trusts through
//    AWS_CA_BUNDLE; the requests inside go to the same handler as certkeeper's.
//
// ChangeResourceRecordSets: forwarded to moto, then its answer rewritten to Status PENDING and a
// change id of our own (moto hands out one constant id). GetChange for our ids is answered here:
// PENDING until pendingMs after the change request arrived, then INSYNC. Everything else is
// forwarded unchanged. Optionally (rps > 0) Route 53's account-wide request rate limit is enforced
// with `400 Throttling: Rate exceeded`, as AWS answers.

import { randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import { TLSSocket } from 'node:tls';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export function operationOf(method, path) {
  const p = path.replace(/\/+$/, '');
  if (/^\/2013-04-01\/hostedzone\/[^/]+\/rrset$/.test(p))
    return method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
  if (/^\/2013-04-01\/change\/.+$/.test(p)) return 'GetChange';
  if (/^\/2013-04-01\/hostedzonesbyname$/.test(p)) return 'ListHostedZonesByName';
  if (/^\/2013-04-01\/hostedzone\/[^/]+$/.test(p)) return method === 'GET' ? 'GetHostedZone' : 'HostedZone';
  if (/^\/2013-04-01\/hostedzone$/.test(p)) return method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones';
  return `${method} ${p}`;
}

/**
 * @param {{ target: string, pendingMs: number, rps?: number, tls: { cert: string, key: string },
 *   onChange?: (zoneId: string) => void }} opts  onChange: called once moto accepted a change to the zone
 */
export async function startRoute53Proxy({ target, pendingMs, rps: initialRps = 0, tls, onChange }) {
  let rps = initialRps;
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const submitted = new Map(); // our change id → ms when the change request arrived
  let calls = [];
  const sockets = new Set();
  let bucket = { tokens: rps, at: Date.now() };

  function throttled() {
    if (!rps) return false;
    const now = Date.now();
    bucket = { tokens: Math.min(rps, bucket.tokens + ((now - bucket.at) / 1000) * rps), at: now };
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  }

  function xml(res, status, body) {
    const buf = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': buf.length,
      'x-amzn-requestid': randomBytes(16).toString('hex'),
    });
    res.end(buf);
  }

  async function handle(req, res) {
    const arrived = Date.now();
    const path = new URL(req.url, 'http://x').pathname;
    const op = operationOf(req.method, path);
    const call = { t: arrived, op, via: req.socket.encrypted ? 'https-proxy' : 'endpoint' };
    calls.push(call);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);

    if (throttled()) {
      call.throttled = true;
      return xml(
        res,
        400,
        `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
      );
    }
    if (op === 'GetChange') {
      const id = decodeURIComponent(path.replace(/^\/2013-04-01\/change\//, '').replace(/^change\//, ''));
      const at = submitted.get(id);
      if (at !== undefined) {
        const status = Date.now() - at < pendingMs ? 'PENDING' : 'INSYNC';
        call.status = status;
        return xml(
          res,
          200,
          `<GetChangeResponse xmlns="${NS}"><ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date(at).toISOString()}</SubmittedAt></ChangeInfo></GetChangeResponse>`,
        );
      }
    }

    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['transfer-encoding'];
    headers['content-length'] = String(body.length);
    let up;
    try {
      up = await new Promise((resolve, reject) => {
        const r = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers,
            agent,
            timeout: 30_000,
          },
          async (response) => {
            const out = [];
            try {
              for await (const c of response) out.push(c);
              resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(out) });
            } catch (error) {
              reject(error);
            }
          },
        );
        r.on('timeout', () => r.destroy(new Error('moto did not answer in 30 s')));
        r.on('error', reject);
        r.end(body);
      });
    } catch (error) {
      call.error = error.message;
      return xml(
        res,
        503,
        `<ErrorResponse xmlns="${NS}"><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>${error.message}</Message></Error></ErrorResponse>`,
      );
    }
    let out = up.body;
    if (op === 'ChangeResourceRecordSets' && up.status === 200) {
      // moto has applied it: whoever caches the zone's records must read them again.
      onChange?.(/^\/2013-04-01\/hostedzone\/([^/]+)\/rrset/.exec(path)?.[1]);
      const id = `CKB${randomBytes(6).toString('hex').toUpperCase()}`;
      submitted.set(id, arrived);
      call.change = id;
      out = Buffer.from(
        out
          .toString('utf8')
          .replace(/<Id>[^<]*<\/Id>/, `<Id>/change/${id}</Id>`)
          .replace(/<Status>INSYNC<\/Status>/, `<Status>${pendingMs > 0 ? 'PENDING' : 'INSYNC'}</Status>`),
      );
    }
    const h = { ...up.headers };
    delete h['transfer-encoding'];
    delete h.connection;
    h['content-length'] = String(out.length);
    res.writeHead(up.status, h);
    res.end(out);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error?.message ?? error));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (!/^route53\.amazonaws\.com:443$/i.test(req.url ?? '')) {
      // Anything else would leave the machine: refuse it, loudly.
      calls.push({ t: Date.now(), op: `CONNECT ${req.url} (refused)`, via: 'https-proxy' });
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head?.length) socket.unshift(head);
    const tlsSocket = new TLSSocket(socket, { isServer: true, cert: tls.cert, key: tls.key });
    tlsSocket.on('error', () => socket.destroy());
    server.emit('connection', tlsSocket);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** The calls since the last reset(): { t, op, via, status?, change?, throttled? }. */
    get calls() {
      return calls;
    },
    reset() {
      calls = [];
    },
    /** Changes the enforced request rate (0: off); the bucket starts full. */
    setRps(n) {
      rps = n;
      bucket = { tokens: rps, at: Date.now() };
    },
    /** Calls by operation, the busiest second, changes submitted, PENDING answers, refused CONNECTs. */
    summary() {
      const byOp = {};
      for (const c of calls) byOp[c.op] = (byOp[c.op] ?? 0) + 1;
      const ts = calls.map((c) => c.t).sort((a, b) => a - b);
      let peak = 0;
      for (let i = 0, j = 0; i < ts.length; i++) {
        while (ts[i] - ts[j] >= 1000) j++;
        peak = Math.max(peak, i - j + 1);
      }
      return {
        total: calls.length,
        byOperation: byOp,
        peakPerSecond: peak,
        changes: calls.filter((c) => c.change).length,
        pendingAnswers: calls.filter((c) => c.status === 'PENDING').length,
        throttled: calls.filter((c) => c.throttled).length,
        refused: calls.filter((c) => c.op.startsWith('CONNECT')).length,
      };
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
