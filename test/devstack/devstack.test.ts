// @peculiar/x509 needs a Reflect metadata polyfill loaded before it (see src/devstack/tlscert.ts).
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import * as x509 from '@peculiar/x509';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startMoto } from '../../src/devstack/moto.js';
import { waitForPort } from '../../src/devstack/process.js';
import { getRootPem, getStack, startOwnPebble } from '../support/stack.js';

function httpsGetJson(url: string, ca: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) as Record<string, unknown> });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function challtestsrv(baseUrl: string, path: '/set-txt' | '/clear-txt', body: object): Promise<void> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status, `${path} answered ${res.status}`).toBe(200);
}

async function resolveTxt(resolverAddr: string, name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([resolverAddr]);
  try {
    return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
  } catch (error) {
    // challtestsrv answers an unknown name with an empty answer (ENODATA) or NXDOMAIN (ENOTFOUND).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
    throw error;
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

describe('devstack (shared Pebble + challtestsrv + moto from global setup)', () => {
  it('serves an ACME directory over TLS trusted through caBundlePath', async () => {
    const stack = getStack();
    expect(stack.acmeDirectory).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dir$/);
    const ca = readFileSync(stack.caBundlePath, 'utf8');
    expect(ca).toBe(stack.caBundlePem);
    const { status, json } = await httpsGetJson(stack.acmeDirectory, ca);
    expect(status).toBe(200);
    expect(json.newOrder).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(json.newNonce).toBeTypeOf('string');
    expect(json.newAccount).toBeTypeOf('string');
  });

  it('rejects the directory when Pebble’s listener certificate is not trusted', async () => {
    // Proves caBundlePem really is what makes the connection work, not a lax client.
    await expect(httpsGetJson(getStack().acmeDirectory, getRootPem())).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('answers TXT records set through challtestsrv on its DNS port, and forgets them on clear-txt', async () => {
    const stack = getStack();
    const name = `_acme-challenge.${randomUUID().slice(0, 8)}.devstack.test`;
    onTestFinished(() => challtestsrv(stack.challtestsrvUrl, '/clear-txt', { host: `${name}.` }));
    expect(await resolveTxt(stack.dnsResolver, name)).toEqual([]);

    await challtestsrv(stack.challtestsrvUrl, '/set-txt', { host: `${name}.`, value: 'first-value' });
    await challtestsrv(stack.challtestsrvUrl, '/set-txt', { host: `${name}.`, value: 'second-value' });
    expect((await resolveTxt(stack.dnsResolver, name)).sort()).toEqual(['first-value', 'second-value']);

    await challtestsrv(stack.challtestsrvUrl, '/clear-txt', { host: `${name}.` });
    expect(await resolveTxt(stack.dnsResolver, name)).toEqual([]);
  });

  it('provides Pebble’s root, which is a CA and issued the intermediate', async () => {
    const root = new x509.X509Certificate(getRootPem());
    expect(root.subject).toMatch(/Pebble Root CA/);
    expect(root.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(await root.isSelfSigned()).toBe(true);

    const stack = getStack();
    const pem = await new Promise<string>((resolve, reject) => {
      const req = request(`${stack.managementUrl}/intermediates/0`, { ca: stack.caBundlePem, agent: false }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => {
          body += d.toString();
        });
        r.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    const intermediate = new x509.X509Certificate(pem);
    expect(intermediate.issuer).toBe(root.subject);
    expect(await intermediate.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
  });

  it('has moto listening', async () => {
    const stack = getStack();
    await waitForPort(portOf(stack.motoEndpoint), 1000);
    expect(stack.motoEnv.AWS_ENDPOINT_URL).toBe(stack.motoEndpoint);
  });
});

describe('startPebbleStack (own stacks)', () => {
  it('starts a second stack that coexists with the shared one, with its own ports and roots', async () => {
    const shared = getStack();
    const started = performance.now();
    const own = await startOwnPebble();
    const startMs = performance.now() - started;
    onTestFinished(() => own.stop());
    // Generous bound: typical is well under a second; this only catches a regression to polling sleeps.
    expect(startMs).toBeLessThan(10_000);

    const ownPorts = [own.acmeDirectory, own.managementUrl, own.challtestsrvUrl].map(portOf);
    const sharedPorts = [shared.acmeDirectory, shared.managementUrl, shared.challtestsrvUrl].map(portOf);
    for (const p of ownPorts) expect(sharedPorts).not.toContain(p);
    expect(own.dnsResolver).not.toBe(shared.dnsResolver);

    const [a, b] = await Promise.all([
      httpsGetJson(own.acmeDirectory, own.caBundlePem),
      httpsGetJson(shared.acmeDirectory, shared.caBundlePem),
    ]);
    expect(a.json.newOrder).toBeTypeOf('string');
    expect(b.json.newOrder).toBeTypeOf('string');
    expect(await own.rootPem()).not.toBe(getRootPem());

    // TXT records are per challtestsrv: one stack's records are invisible to the other.
    const name = `_acme-challenge.${randomUUID().slice(0, 8)}.devstack.test`;
    await challtestsrv(own.challtestsrvUrl, '/set-txt', { host: `${name}.`, value: 'own-only' });
    expect(await resolveTxt(own.dnsResolver, name)).toEqual(['own-only']);
    expect(await resolveTxt(shared.dnsResolver, name)).toEqual([]);
  });

  it('applies deterministic defaults, env overrides, EAB and the validity period', async () => {
    const plain = await startOwnPebble();
    onTestFinished(() => plain.stop());
    expect(plain.logs()).toMatch(/reject 0% of good nonces/);
    expect(plain.logs()).toMatch(/authz reuse for each identifier 0% of the time/);
    expect(plain.logs()).toMatch(/Disabling random VA sleeps/);

    const custom = await startOwnPebble({
      env: { PEBBLE_WFE_NONCEREJECT: '100' },
      eab: { kid: 'kid-1', hmacKey: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' },
      validityPeriodSec: 3600,
    });
    onTestFinished(() => custom.stop());
    expect(custom.logs()).toMatch(/reject 100% of good nonces/);
    expect(custom.logs()).toMatch(/validity period of 3600 seconds/);
    const { json } = await httpsGetJson(custom.acmeDirectory, custom.caBundlePem);
    expect((json.meta as { externalAccountRequired?: boolean }).externalAccountRequired).toBe(true);
  });

  it('stop() ends both servers and removes the temporary files', async () => {
    const own = await startOwnPebble();
    const ports = [
      portOf(own.acmeDirectory),
      portOf(own.managementUrl),
      portOf(own.challtestsrvUrl),
      Number(own.dnsResolver.split(':')[1]),
    ];
    for (const p of ports) expect(await isListening(p)).toBe(true);
    expect(existsSync(own.caBundlePath)).toBe(true);

    await own.stop();
    for (const p of ports) expect(await isListening(p), `port ${p} still open after stop()`).toBe(false);
    expect(existsSync(own.caBundlePath)).toBe(false);
    await own.stop(); // idempotent
  });
});

describe('startMoto', () => {
  it('does not take another server on its port for moto: it starts again on a fresh port', async () => {
    // What a second test run on the machine did: it took the port between freePort() and moto's
    // bind, so an open port answered with someone else's 404s.
    let served = 0;
    const other = createServer((_req, res) => {
      served++;
      res.writeHead(404).end('404 page not found\n');
    });
    await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
    onTestFinished(() => new Promise<void>((done) => other.close(() => done())));
    const taken = (other.address() as AddressInfo).port;
    const moto = await startMoto({ port: taken });
    onTestFinished(() => moto.stop());
    expect(moto.endpoint).not.toBe(`http://127.0.0.1:${taken}`);
    const res = await fetch(`${moto.endpoint}/moto-api/data.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toBeTypeOf('object');
    // The probe of the lost attempt stopped: nothing keeps knocking on the taken port (it did, for
    // 30 s, and a later file that counts this process's connections saw it).
    const servedBefore = served;
    await new Promise((r) => setTimeout(r, 400));
    expect(served).toBe(servedBefore);
  }, 60_000);
});
