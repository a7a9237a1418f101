import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer as createHttpsServer, type Server } from 'node:https';
import { rootCertificates } from 'node:tls';
import { createSelfSignedCert, type TlsCertPem } from '../../../src/devstack/tlscert.js';

/**
 * TLS for the vendor fakes. The real SDKs refuse (Azure) or never use (Google: `https://` is
 * hard-coded) plain HTTP, so the fakes speak HTTPS with one self-signed certificate per test
 * process, and the tests make the SDKs trust it. Nothing in product code knows about it: the trust
 * is added in the test process only, next to the system roots, and verification stays on.
 */

let certificate: Promise<TlsCertPem> | undefined;

/** The fakes' certificate (for 127.0.0.1 and localhost), made once per test process. */
export function fakeCertificate(): Promise<TlsCertPem> {
  certificate ??= createSelfSignedCert(['127.0.0.1', 'localhost']);
  return certificate;
}

/** A keep-alive agent trusting the system roots and the fakes' certificate. */
export async function trustingAgent(): Promise<Agent> {
  const { certPem } = await fakeCertificate();
  return new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, ca: [...rootCertificates, certPem] });
}

export interface HttpsFake {
  server: Server;
  /** https://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1 with the fakes' certificate; closes its keep-alive connections on close(). */
export async function startHttpsFake(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<HttpsFake> {
  const { certPem, keyPem } = await fakeCertificate();
  const server = createHttpsServer({ cert: certPem, key: keyPem, keepAliveTimeout: 5_000 }, (req, res) => {
    void Promise.resolve(handler(req, res)).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 500, message: `fake: ${error.message}` } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // Never keeps a test process alive on its own.
  server.unref();
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
