// Section `providers` (issue 10): one apex + wildcard certificate per run through each DNS
// provider, on the local stack: real servers where they run here (moto, BIND 9, Knot, PowerDNS,
// challtestsrv), the vendor fakes of test/support/fakes/ for Cloudflare, Google Cloud DNS and
// Azure DNS. Each provider has its own Pebble validating through that provider's DNS. certkeeper
// runs as the built CLI on Node 24, one whole process per certificate; the API calls are counted
// at the server side (a counting proxy, or the fake's own request log). lego (Debian 4.9.1) runs
// beside it where it can be pointed at the local server. See bench/README.md.

import { Resolver } from 'node:dns/promises';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { register } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  hashDir,
  intEnv,
  leafOf,
  legoFlags,
  legoIssue,
  measure,
  mib,
  msf,
  Scope,
  say,
  sec,
  stats,
  ToolError,
  table,
} from './lib.mjs';
import { startRoute53Proxy } from './r53-proxy.mjs';

// The vendor fakes import test/support/secrets-guard.ts, which needs the vitest runner: outside
// vitest that one module resolves to a stub (bench/test-support-hooks.mjs).
register('./test-support-hooks.mjs', import.meta.url);

const PEBBLE_ENV = { PEBBLE_VA_NOSLEEP: '1' }; // startPebbleStack adds AUTHZREUSE=0, NONCEREJECT=0

/** A provider's own Pebble, validating through `dnsServer` (its DNS; challtestsrv's when absent), stopped with the scope. */
async function startPebble(devstack, scope, dnsServer) {
  const stack = await devstack.startPebbleStack({
    env: PEBBLE_ENV,
    ...(dnsServer ? { dnsServer } : {}),
    maxLifetimeSec: 3600,
  });
  scope.defer(() => stack.stop());
  return stack;
}
const ALL = [
  'challtestsrv',
  'route53',
  'cloudflare',
  'google-cloud-dns',
  'azure-dns',
  'rfc2136-bind',
  'rfc2136-knot',
  'powerdns',
];
const PROPAGATION = { interval: '250ms', timeout: '30s' };
const GCP_PROJECT = 'certkeeper-bench';
const AZ_SUBSCRIPTION = '6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
const AZ_RESOURCE_GROUP = 'dns-rg';

/** This process's environment without any cloud credentials, endpoints or proxies that could leak into a tool. */
function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (
      /^(AWS_|AZURE_|GOOGLE_|CLOUDSDK_|GCE_|CLOUDFLARE_|CF_|PDNS_|RFC2136_|EXEC_|HTTPS?_PROXY$|NO_PROXY$|ALL_PROXY$|NODE_EXTRA_CA_CERTS$|NODE_OPTIONS$)/i.test(
        k,
      )
    )
      delete env[k];
  }
  return env;
}

// ---------- counting at the server side ----------

/**
 * A reverse proxy in front of `target` (http or https; an https target is one of our fakes, its
 * certificate not checked) that logs every request (method, path, status). With `mitm`, it is also
 * an HTTPS forward proxy for lego (Go reads HTTPS_PROXY): a CONNECT to one of `mitm.hosts`:443 is
 * answered with TLS terminated here (a certificate for those names, trusted by lego through SSL_CERT_FILE),
 * and the requests inside go to `target` like the others. Any other CONNECT is refused.
 */
async function countingHttpProxy(target, mitm) {
  const up = new URL(target);
  const secure = up.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, rejectUnauthorized: false })
    : new Agent({ keepAlive: true });
  const send = secure ? httpsRequest : request;
  let calls = [];
  const sockets = new Set();
  const server = createServer((req, res) => {
    const call = {
      method: req.method,
      path: new URL(req.url, 'http://x').pathname,
      via: req.socket.encrypted ? 'mitm' : 'direct',
    };
    calls.push(call);
    const r = send(
      {
        host: up.hostname,
        port: up.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: up.host },
        agent,
      },
      (u) => {
        call.status = u.statusCode;
        res.writeHead(u.statusCode, u.headers);
        u.pipe(res);
      },
    );
    r.on('error', (e) => {
      call.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end(e.message);
    });
    req.pipe(r);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (!mitm?.hosts.some((h) => req.url?.toLowerCase() === `${h}:443`)) {
      calls.push({ method: 'CONNECT', path: `${req.url} (refused)`, via: 'mitm' });
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head?.length) socket.unshift(head);
    const tlsSocket = new TLSSocket(socket, { isServer: true, cert: mitm.cert, key: mitm.key });
    tlsSocket.on('error', () => socket.destroy());
    server.emit('connection', tlsSocket);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get calls() {
      return calls;
    },
    reset() {
      calls = [];
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

/** DNS messages through test/support/dns-proxy.ts, by opcode (0 QUERY, 5 UPDATE). */
function opcodeCounter() {
  let seen = [];
  const opcode = (msg) => (msg.length > 2 ? (msg[2] >> 3) & 0x0f : -1);
  return {
    hooks: {
      udp: (req, forward) => {
        seen.push({ op: opcode(req), via: 'udp' });
        return forward();
      },
      tcp: (req, res) => {
        seen.push({ op: opcode(req), via: 'tcp' });
        return res;
      },
    },
    get seen() {
      return seen;
    },
    reset() {
      seen = [];
    },
  };
}

const byKey = (list) => {
  const out = {};
  for (const k of list) out[k] = (out[k] ?? 0) + 1;
  return out;
};

/** The PEM of the certificate an HTTPS listener presents (verification off: this is how we learn it). */
function peerCertificatePem(url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      const pem = s.getPeerX509Certificate()?.toString();
      s.end();
      if (pem) resolve(pem);
      else reject(new Error(`${url}: no peer certificate`));
    });
    s.once('error', reject);
  });
}

/** TXT values at `name` as the provider's DNS server answers them now. */
async function txtAt(server, name) {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([server]);
  try {
    return (await r.resolveTxt(name)).map((chunks) => chunks.join(''));
  } catch (error) {
    if (error.code === 'ENODATA' || error.code === 'ENOTFOUND') return [];
    throw new Error(`TXT ${name} @${server}: ${error.code ?? error.message}`);
  }
}

// ---------- the providers: each starts its server/fake and its own Pebble ----------
//
// A setup returns { server, zone, dnsAddress (serves the zone; Pebble and the propagation check
// ask it), stack (its Pebble), dns (the config's dns block without propagation), env, counts()
// and reset() (what the server saw since the last reset), lego? ({ dns, env } or { none: why }) }.

const SETUPS = {
  async challtestsrv({ devstack, scope }) {
    const stack = await startPebble(devstack, scope);
    const proxy = await countingHttpProxy(stack.challtestsrvUrl);
    scope.defer(() => proxy.stop());
    return {
      server: 'pebble-challtestsrv (Debian)',
      zone: 'bench-challtestsrv.example.com',
      dnsAddress: stack.dnsResolver,
      stack,
      dns: { provider: 'challtestsrv', url: proxy.url },
      env: {},
      reset: () => proxy.reset(),
      counts: () => ({
        api: proxy.calls.length,
        credential: 0,
        byOp: byKey(proxy.calls.map((c) => `${c.method} ${c.path}`)),
      }),
      lego: { none: 'single section (lego --dns exec against challtestsrv)' },
    };
  },

  async route53({ devstack, scope, load, tmp }) {
    const moto = await devstack.startMoto();
    scope.defer(() => moto.stop());
    const zone = 'bench-route53.example.com';
    const admin = new Route53Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    scope.defer(() => admin.destroy());
    await admin.send(new CreateHostedZoneCommand({ Name: zone, CallerReference: `bench-${zone}` }));
    const { startRoute53Dns } = await load('../test/support/route53-dns.ts');
    const dns = await startRoute53Dns({ endpoint: moto.endpoint });
    scope.defer(() => dns.stop());
    // pendingMs 0: moto's INSYNC passes through unchanged; the proxy only counts (and, for lego,
    // terminates TLS for route53.amazonaws.com, as in the fleet section).
    const mitm = await devstack.createSelfSignedCert(['route53.amazonaws.com']);
    const mitmCaPath = join(tmp, 'route53-mitm.pem');
    await writeFile(mitmCaPath, mitm.certPem);
    const proxy = await startRoute53Proxy({
      target: moto.endpoint,
      pendingMs: 0,
      tls: { cert: mitm.certPem, key: mitm.keyPem },
    });
    scope.defer(() => proxy.stop());
    const stack = await startPebble(devstack, scope, dns.address);
    const aws = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
    return {
      server: 'moto_server (Route 53), DNS from test/support/route53-dns.ts',
      zone,
      dnsAddress: dns.address,
      stack,
      dns: { provider: 'route53' },
      env: { ...aws, AWS_ENDPOINT_URL_ROUTE_53: proxy.endpoint },
      reset: () => proxy.reset(),
      counts: () => {
        const s = proxy.summary();
        return { api: s.total, credential: 0, byOp: s.byOperation };
      },
      lego: {
        dns: 'route53',
        env: {
          ...aws,
          HTTPS_PROXY: proxy.endpoint,
          NO_PROXY: '127.0.0.1,localhost',
          AWS_CA_BUNDLE: mitmCaPath,
          AWS_POLLING_INTERVAL: '0',
          AWS_PROPAGATION_TIMEOUT: '10',
        },
      },
    };
  },

  async cloudflare({ devstack, scope, load }) {
    const { startFakeCloudflare } = await load('../test/support/fakes/cloudflare.ts');
    const fake = await startFakeCloudflare();
    scope.defer(() => fake.stop());
    const zone = 'bench-cloudflare.example.com';
    fake.addZone('example.com');
    fake.addZone(zone);
    const token = fake.addToken();
    const stack = await startPebble(devstack, scope, fake.dns.address);
    let from = 0;
    return {
      server: 'fake Cloudflare API v4 (test/support/fakes/cloudflare.ts), plain HTTP',
      zone,
      dnsAddress: fake.dns.address,
      stack,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax
      dns: { provider: 'cloudflare', apiToken: '${env:CLOUDFLARE_API_TOKEN}' },
      env: fake.env(token),
      reset: () => {
        from = fake.requests.length;
      },
      counts: () => {
        const list = fake.requests.slice(from);
        return {
          api: list.length,
          credential: 0,
          byOp: byKey(list.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{32}/g, ':id')}`)),
        };
      },
      lego: {
        none: "Debian's lego 4.9.1 is built without the cloudflare provider (`unrecognized DNS provider`; debian/changelog: disabled until cloudflare-go is packaged, #968964); upstream 4.9.1 has no base-URL setting either",
      },
    };
  },

  async 'google-cloud-dns'({ devstack, scope, load, tmp, caFile }) {
    const { startGoogleCloudDnsFake } = await load('../test/support/fakes/google-cloud-dns.ts');
    const zone = 'bench-gcp.example.com';
    const fake = await startGoogleCloudDnsFake({
      project: GCP_PROJECT,
      zones: [
        { name: 'example-com', dnsName: 'example.com.' },
        { name: 'bench-gcp', dnsName: `${zone}.` },
      ],
    });
    scope.defer(() => fake.stop());
    const dir = join(tmp, 'gcp');
    await mkdir(dir, { recursive: true });
    // What google-github-actions/auth writes for workload identity federation (as the e2e test).
    const credentials = await fake.externalAccountFile(dir, { source: 'url', impersonate: true });
    const stack = await startPebble(devstack, scope, fake.dns.address);
    // lego 4.9.1 has no endpoint setting: it goes to https://dns.googleapis.com through this proxy,
    // TLS terminated for that name, forwarded to the fake; the token calls go to the fake directly.
    // golang.org/x/oauth2 accepts only Google's STS and IAM hosts in the credentials file, so lego
    // gets a copy naming those; they go through the same proxy to the fake.
    const hosts = ['dns.googleapis.com', 'sts.googleapis.com', 'iamcredentials.googleapis.com'];
    const mitm = await devstack.createSelfSignedCert(hosts);
    const legoTrust = join(tmp, 'gcp-lego-trust.pem');
    const legoCredentials = join(dir, 'lego-credentials.json');
    const file = JSON.parse(await readFile(credentials, 'utf8'));
    file.token_url = file.token_url.replace(fake.endpoint, 'https://sts.googleapis.com');
    file.service_account_impersonation_url = file.service_account_impersonation_url.replace(
      fake.endpoint,
      'https://iamcredentials.googleapis.com',
    );
    await writeFile(legoCredentials, JSON.stringify(file), { mode: 0o600 });
    const legoProxy = await countingHttpProxy(fake.endpoint, {
      hosts,
      cert: mitm.certPem,
      key: mitm.keyPem,
    });
    scope.defer(() => legoProxy.stop());
    const ca = await caFile('gcp', fake.endpoint);
    await writeFile(legoTrust, `${mitm.certPem}\n${await readFile(ca, 'utf8')}`);
    const CRED = new Set(['github.oidc', 'sts.token', 'iam.generateAccessToken']);
    let from = 0;
    return {
      server: 'fake Cloud DNS v1 + STS + IAM credentials (test/support/fakes/google-cloud-dns.ts), HTTPS',
      zone,
      dnsAddress: fake.dns.address,
      stack,
      dns: { provider: 'google-cloud-dns', project: GCP_PROJECT, endpoint: fake.endpoint },
      env: { GOOGLE_APPLICATION_CREDENTIALS: credentials, NODE_EXTRA_CA_CERTS: ca },
      reset: () => {
        from = fake.calls.length;
      },
      counts: () => {
        const list = fake.calls.slice(from);
        return {
          api: list.filter((c) => !CRED.has(c)).length,
          credential: list.filter((c) => CRED.has(c)).length,
          byOp: byKey(list),
        };
      },
      lego: {
        dns: 'gcloud',
        env: {
          GCE_PROJECT: GCP_PROJECT,
          GOOGLE_APPLICATION_CREDENTIALS: legoCredentials,
          HTTPS_PROXY: legoProxy.url,
          NO_PROXY: '127.0.0.1,localhost',
          SSL_CERT_FILE: legoTrust,
          GCE_POLLING_INTERVAL: '0',
          GCE_PROPAGATION_TIMEOUT: '10',
        },
      },
    };
  },

  async 'azure-dns'({ scope, load, tmp, caFile, devstack }) {
    const { startAzureDnsFake } = await load('../test/support/fakes/azure-dns.ts');
    const zone = 'bench-azure.example.com';
    const fake = await startAzureDnsFake({
      subscriptionId: AZ_SUBSCRIPTION,
      resourceGroup: AZ_RESOURCE_GROUP,
      zones: [{ name: 'example.com' }, { name: zone }],
    });
    scope.defer(() => fake.stop());
    const dir = join(tmp, 'azure');
    await mkdir(dir, { recursive: true });
    // DefaultAzureCredential → WorkloadIdentityCredential (a federated GitHub OIDC token file).
    const federated = await fake.federatedEnv(dir);
    const stack = await startPebble(devstack, scope, fake.dns.address);
    let from = 0;
    return {
      server: 'fake ARM DNS 2018-05-01 + Entra ID token endpoint (test/support/fakes/azure-dns.ts), HTTPS',
      zone,
      dnsAddress: fake.dns.address,
      stack,
      dns: {
        provider: 'azure-dns',
        subscriptionId: AZ_SUBSCRIPTION,
        resourceGroup: AZ_RESOURCE_GROUP,
        endpoint: fake.endpoint,
      },
      env: {
        ...federated,
        AZURE_AUTHORITY_HOST: fake.authorityHost,
        NODE_EXTRA_CA_CERTS: await caFile('azure', fake.endpoint),
      },
      reset: () => {
        from = fake.calls.length;
      },
      counts: () => {
        const list = fake.calls.slice(from);
        return {
          api: list.filter((c) => !c.startsWith('entra.')).length,
          credential: list.filter((c) => c.startsWith('entra.')).length,
          byOp: byKey(list),
        };
      },
      lego: {
        none: "Debian's lego 4.9.1 is built without the azure provider (debian/changelog: disabled until its SDK is packaged, #968964)",
      },
    };
  },

  'rfc2136-bind': (ctx) => rfc2136Setup(ctx, 'bind'),
  'rfc2136-knot': (ctx) => rfc2136Setup(ctx, 'knot'),

  async powerdns({ devstack, scope }) {
    const zone = 'bench-pdns.example.com';
    const pdns = await devstack.startPowerDns({ zones: [{ name: zone }], maxLifetimeSec: 3600 });
    scope.defer(() => pdns.stop());
    const proxy = await countingHttpProxy(pdns.apiUrl);
    scope.defer(() => proxy.stop());
    const stack = await startPebble(devstack, scope, pdns.address);
    return {
      server: 'pdns_server + gsqlite3 (Debian), HTTP API',
      zone,
      dnsAddress: pdns.address,
      stack,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax
      dns: { provider: 'powerdns', url: proxy.url, apiKey: '${env:PDNS_API_KEY}' },
      env: { PDNS_API_KEY: pdns.apiKey },
      reset: () => proxy.reset(),
      counts: () => ({
        api: proxy.calls.length,
        credential: 0,
        byOp: byKey(proxy.calls.map((c) => `${c.method} ${c.path}`)),
      }),
      lego: {
        dns: 'pdns',
        env: {
          PDNS_API_URL: proxy.url,
          PDNS_API_KEY: pdns.apiKey,
          PDNS_POLLING_INTERVAL: '0',
          PDNS_PROPAGATION_TIMEOUT: '10',
        },
      },
    };
  },
};

async function rfc2136Setup({ devstack, scope, load }, kind) {
  const zone = `bench-${kind}.example.com`;
  const spec = {
    keys: [{ name: 'certkeeper', algorithm: 'hmac-sha256' }],
    zones: [{ name: zone, updateKeys: ['certkeeper'] }],
    maxLifetimeSec: 3600,
  };
  const server = kind === 'bind' ? await devstack.startBind(spec) : await devstack.startKnot(spec);
  scope.defer(() => server.stop());
  const { startDnsProxy } = await load('../test/support/dns-proxy.ts');
  const counter = opcodeCounter();
  // The provider's messages go through the proxy (counted); Pebble and the propagation checks ask the server.
  const proxy = await startDnsProxy(server, counter.hooks);
  scope.defer(() => proxy.stop());
  const stack = await startPebble(devstack, scope, server.address);
  const secret = server.key('certkeeper').secret;
  return {
    server: kind === 'bind' ? 'BIND 9 named (Debian)' : 'Knot DNS knotd (Debian)',
    zone,
    dnsAddress: server.address,
    stack,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax
    dns: { provider: 'rfc2136', server: proxy.address, tsig: { name: 'certkeeper', secret: '${env:TSIG_SECRET}' } },
    env: { TSIG_SECRET: secret },
    reset: () => counter.reset(),
    counts: () => {
      const s = counter.seen;
      return {
        api: s.filter((m) => m.op === 5).length,
        credential: 0,
        other: s.filter((m) => m.op !== 5).length,
        byOp: byKey(s.map((m) => `${m.op === 5 ? 'UPDATE' : m.op === 0 ? 'QUERY' : `opcode ${m.op}`}/${m.via}`)),
      };
    },
    lego: {
      dns: 'rfc2136',
      env: {
        RFC2136_NAMESERVER: proxy.address,
        RFC2136_TSIG_KEY: 'certkeeper.',
        RFC2136_TSIG_SECRET: secret,
        RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
        RFC2136_POLLING_INTERVAL: '0',
        RFC2136_PROPAGATION_TIMEOUT: '10',
        RFC2136_SEQUENCE_INTERVAL: '0', // rfc2136 is a sequential provider in lego: default 60 s between authzs
      },
    },
  };
}

// ---------- one tool, one provider ----------

function certkeeperRunner(p, ck, tmp, rss) {
  const dir = join(tmp, p.name);
  const storeDir = join(dir, 'store');
  const env = { ...cleanEnv(), ...p.env };
  const seen = new Set();
  return async function issue(domain) {
    const config = {
      version: 1,
      acme: { directory: p.stack.acmeDirectory, caBundle: p.stack.caBundlePath, email: 'bench@example.com' },
      certificates: [
        {
          id: 'bench',
          domains: [domain, `*.${domain}`],
          keyType: 'ec-p256',
          dns: { ...p.dns, propagation: { resolvers: [p.dnsAddress], ...PROPAGATION } },
          store: { type: 'file', dir: storeDir },
        },
      ],
    };
    await mkdir(dir, { recursive: true });
    const cfg = join(dir, 'certkeeper.json');
    await writeFile(cfg, JSON.stringify(config, null, 2));
    p.reset();
    const r = await measure(ck.cmd, [...ck.args, 'run', '--force', '--json', '--config', cfg], {
      env,
      cwd: dir,
      rss,
      tmp,
    });
    const api = p.counts();
    const why = (msg) => new ToolError(`certkeeper/${p.name}`, `${msg} (exit ${r.code})`, r.output);
    if (r.code !== 0) throw why('certkeeper run failed');
    let parsed;
    try {
      parsed = JSON.parse(r.stdout);
    } catch {
      throw why('certkeeper --json printed no JSON');
    }
    const result = parsed.results?.[0];
    if (result?.status !== 'renewed') throw why(`certificate not renewed: ${JSON.stringify(result)}`);
    const leaf = leafOf(join(storeDir, 'bench', 'cert.pem'));
    if (seen.has(leaf.serial) || !leaf.names.includes(domain) || !leaf.names.includes(`*.${domain}`))
      throw why(`no new certificate for ${domain} (serial ${leaf.serial}, names ${leaf.names})`);
    seen.add(leaf.serial);
    const left = await txtAt(p.dnsAddress, `_acme-challenge.${domain}`);
    if (left.length) throw why(`TXT left at _acme-challenge.${domain}: ${left.join(', ')}`);
    return {
      ...r,
      api,
      serial: leaf.serial,
      inProcessMs: parsed.durationMs,
      account: hashDir(join(storeDir, '_account')),
    };
  };
}

function legoRunner(p, lego, tmp, rss) {
  const legoPath = join(tmp, p.name, 'lego');
  const env = {
    ...cleanEnv(),
    ...p.lego.env,
    LEGO_CA_CERTIFICATES: p.stack.caBundlePath,
    LEGO_DISABLE_CNAME_SUPPORT: 'true',
  };
  const flags = legoFlags({ server: p.stack.acmeDirectory, path: legoPath, dns: p.lego.dns, resolver: p.dnsAddress });
  const seen = new Set();
  return async function issue(domain) {
    p.reset();
    const { r, leaf, why } = await legoIssue({ lego, flags, legoPath, domain, env, tmp, rss, label: `lego/${p.name}` });
    const api = p.counts();
    if (seen.has(leaf.serial)) throw why(`no new certificate for ${domain} (serial ${leaf.serial} seen before)`);
    seen.add(leaf.serial);
    const left = await txtAt(p.dnsAddress, `_acme-challenge.${domain}`);
    if (left.length) throw why(`TXT left at _acme-challenge.${domain}: ${left.join(', ')}`);
    return { ...r, api, serial: leaf.serial, registered: /Registering account/i.test(r.output) };
  };
}

// ---------- the section ----------

export async function runProviders({ lego, rss, ck, node24, devstack, load, tmp }) {
  const N = intEnv('BENCH_PROVIDERS_N', 5);
  const asked = (process.env.BENCH_PROVIDERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of asked)
    if (!ALL.includes(a) && a !== 'rfc2136')
      throw new Error(`BENCH_PROVIDERS: unknown provider ${a}; known: ${ALL.join(', ')}`);
  const names = asked.length
    ? ALL.filter((n) => asked.includes(n) || (asked.includes('rfc2136') && n.startsWith('rfc2136-')))
    : ALL;
  const withLego = (process.env.BENCH_PROVIDERS_LEGO ?? '1') !== '0' && lego;
  // The CLI bundle on Node 24 (the Action's runtime); tsx fallback stays on this Node.
  const tool = ck.via === 'dist' && node24 ? { ...ck, cmd: node24.path } : ck;
  const nodeVersion = ck.via === 'dist' && node24 ? node24.version : process.version;
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);

  const scope = new Scope();
  try {
    // The fakes' self-signed certificate, trusted by the CLI process through NODE_EXTRA_CA_CERTS
    // (its Google and Azure SDKs refuse plain HTTP); Pebble's is given in acme.caBundle. Taken from
    // the fake's own listener: each tsImport loads the fakes' tls.ts afresh, with a certificate of its own.
    const caFile = async (name, endpoint) => {
      const file = join(tmp, `${name}-ca.pem`);
      await writeFile(file, await peerCertificatePem(endpoint));
      return file;
    };
    const providers = [];
    for (const name of names) {
      say(`providers: starting ${name} …`);
      const p = await SETUPS[name]({ devstack, scope, load, tmp, caFile });
      p.name = name;
      p.ck = certkeeperRunner(p, tool, tmp, rss);
      if (withLego && p.lego?.dns) p.legoIssue = legoRunner(p, lego, tmp, rss);
      providers.push(p);
    }

    say('providers: warm-up (untimed): each tool registers its ACME account with each Pebble and issues once');
    for (const p of providers) {
      const w = await p.ck(`warm.${p.zone}`);
      p.account = w.account;
      p.runs = [];
      p.legoRuns = [];
      let lw;
      if (p.legoIssue) lw = await p.legoIssue(`warm-lego.${p.zone}`);
      say(`providers: warm-up ${p.name}: certkeeper ${sec(w.ms)}${lw ? `, lego ${sec(lw.ms)}` : ''}`);
    }

    for (let i = 1; i <= N; i++) {
      // Interleaved across providers (and tools), fresh names each time: load drift hits all alike.
      for (const p of providers) {
        const c = await p.ck(`r${i}.${p.zone}`);
        if (c.account !== p.account)
          throw new ToolError(`certkeeper/${p.name}`, 'the stored ACME account changed in a timed run', c.output);
        p.runs.push(c);
        let l;
        if (p.legoIssue) {
          l = await p.legoIssue(`lego-r${i}.${p.zone}`);
          if (l.registered) throw new ToolError(`lego/${p.name}`, 'registered a new account in a timed run', l.output);
          p.legoRuns.push(l);
        }
        say(
          `providers: run ${i}/${N} ${p.name}: certkeeper ${sec(c.ms)} (${mib(c.rssKb)}, ${c.api.api} API${c.api.credential ? ` + ${c.api.credential} credential` : ''} calls)` +
            (l ? `, lego ${sec(l.ms)} (${mib(l.rssKb)}, ${l.api.api} API calls)` : ''),
        );
      }
    }
    return report({ providers, N, tool, nodeVersion, lego: withLego ? lego : undefined, rss, loadStart });
  } finally {
    await scope.close();
  }
}

function spread(values) {
  const s = [...new Set(values)].sort((a, b) => a - b);
  return s.length === 1 ? String(s[0]) : `${s[0]}–${s[s.length - 1]}`;
}

function report({ providers, N, tool, nodeVersion, lego, rss, loadStart }) {
  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  const json = {
    n: N,
    pebble: {
      env: PEBBLE_ENV,
      note: 'one Pebble per provider; startPebbleStack defaults: PEBBLE_AUTHZREUSE=0, PEBBLE_WFE_NONCEREJECT=0',
    },
    timing: 'wall time from spawn() to the exit event of the tool process (under /usr/bin/time when used)',
    rssMethod: rss,
    certkeeper: {
      via: tool.via,
      node: nodeVersion,
      command: 'node bin/certkeeper.js run --force --json --config <tmp>/<provider>/certkeeper.json',
      propagation: PROPAGATION,
    },
    lego: lego ? { version: lego.version } : null,
    loadavgAtStart: loadStart,
    loadavgAtEnd: load,
    providers: {},
  };
  const rows = [
    [
      'provider',
      'server',
      'median',
      'p90',
      'min',
      'peak RSS',
      'in-process',
      'API calls',
      'credential',
      'lego median',
      'lego API (+ credential)',
    ],
  ];
  for (const p of providers) {
    const c = {
      ms: stats(p.runs.map((r) => r.ms)),
      rssKb: stats(p.runs.map((r) => r.rssKb)),
      inProcessMs: stats(p.runs.map((r) => r.inProcessMs)),
      apiCalls: p.runs.map((r) => r.api.api),
      credentialCalls: p.runs.map((r) => r.api.credential),
      otherDnsMessages: p.runs.map((r) => r.api.other).filter((x) => x !== undefined),
      byOperationLastRun: p.runs.at(-1).api.byOp,
      runsMs: p.runs.map((r) => Math.round(r.ms * 10) / 10),
      serials: p.runs.map((r) => r.serial),
    };
    const l = p.legoRuns.length
      ? {
          ms: stats(p.legoRuns.map((r) => r.ms)),
          rssKb: stats(p.legoRuns.map((r) => r.rssKb)),
          apiCalls: p.legoRuns.map((r) => r.api.api),
          credentialCalls: p.legoRuns.map((r) => r.api.credential),
          byOperationLastRun: p.legoRuns.at(-1).api.byOp,
          runsMs: p.legoRuns.map((r) => Math.round(r.ms * 10) / 10),
          runsHit5sFallback: p.legoRuns.filter((r) => r.ms >= 5000).length,
          env: Object.keys(p.lego.env),
        }
      : null;
    json.providers[p.name] = { server: p.server, certkeeper: c, lego: l ?? { none: p.lego?.none ?? 'disabled' } };
    rows.push([
      p.name,
      p.server.split(' (')[0].split(',')[0],
      sec(c.ms.median),
      sec(c.ms.p90),
      sec(c.ms.min),
      mib(c.rssKb.median),
      msf(c.inProcessMs.median),
      spread(c.apiCalls),
      spread(c.credentialCalls),
      l
        ? `${sec(l.ms.median)}${l.runsHit5sFallback ? ` (${l.runsHit5sFallback}/${p.legoRuns.length} ≥ 5 s)` : ''}`
        : '—',
      l ? `${spread(l.apiCalls)}${l.credentialCalls.some(Boolean) ? ` + ${spread(l.credentialCalls)}` : ''}` : '—',
    ]);
  }
  const text = [
    `== providers: one apex + wildcard certificate per run and provider, ${N} timed runs each (interleaved), whole process spawn → exit; peak RSS via ${rss === 'gnu-time' ? '/usr/bin/time %M' : '/proc VmHWM polling'}`,
    `certkeeper: ${tool.via === 'dist' ? `node bin/certkeeper.js (dist/cli) on node ${nodeVersion}` : 'tsx src/entrypoints/cli/index.ts (build failed; not comparable)'}; propagation interval ${PROPAGATION.interval}${lego ? `; lego ${lego.version}` : ''}`,
    '',
    table(rows, 2),
    '',
    'API calls: per certificate (one run), counted at the server: HTTP requests to the API (route53: at the counting proxy in front of moto; cloudflare/google/azure: the fake’s request log; powerdns/challtestsrv: a counting proxy), DNS UPDATE messages for rfc2136 (its SOA queries are not in the count). credential: token calls (google: GitHub OIDC + STS + IAM impersonation; azure: Entra ID openid-configuration + token). a–b: the range over the runs.',
    ...providers
      .filter((p) => p.lego && !p.legoRuns.length)
      .map((p) => `lego/${p.name}: ${p.lego.none ?? 'disabled (BENCH_PROVIDERS_LEGO=0)'}`),
    `machine: ${cpus().length} CPUs, load average at start ${loadStart.join(' ')}, at end ${load.join(' ')}`,
  ].join('\n');
  return { text, json, targets: [] };
}
