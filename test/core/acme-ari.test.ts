import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChalltestsrvProvider } from '../../src/adapters/dns/challtestsrv/provider.js';
import { createNodeDnsLookup } from '../../src/adapters/resolver/node-dns.js';
import { FileAccountStore } from '../../src/adapters/store/file/account.js';
import { AcmeSession } from '../../src/core/acme.js';
import { ariCertId } from '../../src/core/ari.js';
import { parseCertificate, splitPemChain } from '../../src/core/certinfo.js';
import { issueCertificate } from '../../src/core/issue.js';
import { freePort } from '../../src/devstack/process.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import { AcmeError } from '../../src/ports/errors.js';
import { type AriShim, type ShimRequest, startAriShim } from '../support/ari-shim.js';
import { captureLog, localConfig, tempDir, uniqueZone } from '../support/certkeeper.js';
import { registerSecret } from '../support/secrets-guard.js';
import { getStack } from '../support/stack.js';

const stack = getStack();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const PROFILES = {
  classic: { description: "The same profile you're accustomed to" },
  tlsserver: {
    description: 'https://letsencrypt.org/docs/profiles#tlsserver',
    commonName: false,
    validityMs: 45 * DAY,
  },
  shortlived: {
    description: 'https://letsencrypt.org/docs/profiles#shortlived',
    commonName: false,
    validityMs: 160 * HOUR,
  },
};

let shim: AriShim;
let dir: string;

beforeAll(async () => {
  shim = await startAriShim({
    upstream: stack,
    profiles: PROFILES,
    defaultProfile: 'classic',
    caaIdentities: ['pebble.example'],
  });
  dir = await tempDir('ck-acme-ari-');
});
afterAll(() => shim?.stop());

async function session(directoryUrl = shim.directoryUrl, caBundle = shim.caBundlePath, accountDir = dir) {
  const log = captureLog();
  const accounts = new FileAccountStore(accountDir);
  // The account key is a secret: every key the store hands over counts for the secrets guard.
  const load = accounts.load.bind(accounts);
  const save = accounts.save.bind(accounts);
  accounts.load = async (url) => {
    const a = await load(url);
    if (a) registerSecret(a.accountKey);
    return a;
  };
  accounts.save = async (a) => {
    registerSecret(a.accountKey);
    return save(a);
  };
  const acme = await AcmeSession.open({ directoryUrl, caBundle }, accounts, {
    clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) },
    logger: log.logger,
  });
  return { acme, log };
}

/** One real issuance through the shim (DNS-01 on challtestsrv), as the runner does it. */
async function issue(acme: AcmeSession, options: { profile?: string; replaces?: string; domains?: string[] } = {}) {
  const zone = uniqueZone('ari');
  const domains = options.domains ?? [zone];
  const config = parseConfig(localConfig(stack, dir, [{ id: 'c', domains }]), { env: {} });
  const issued = await issueCertificate(
    {
      domains,
      keyType: 'ec-p256',
      dns: config.certificates[0]!.dns,
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.replaces ? { replaces: options.replaces } : {}),
    },
    {
      acme,
      provider: createChalltestsrvProvider({ url: stack.challtestsrvUrl }),
      clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) },
      logger: captureLog().logger,
      lookup: createNodeDnsLookup(),
      saveLeaseRecords: async () => {},
    },
  );
  registerSecret(issued.privateKey);
  return { ...issued, domains };
}

describe('the directory through the shim', () => {
  it('reads renewalInfo, meta.profiles, caaIdentities and externalAccountRequired from one fetch per session', async () => {
    shim.resetLog();
    const { acme } = await session();
    const directory = await acme.directory();
    expect(directory.renewalInfo).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/renewal-info$/);
    expect(directory.profiles).toEqual({
      classic: PROFILES.classic.description,
      tlsserver: PROFILES.tlsserver.description,
      shortlived: PROFILES.shortlived.description,
    });
    expect(directory.caaIdentities).toEqual(['pebble.example']);
    expect(directory.externalAccountRequired).toBe(false);
    await issue(acme);
    await acme.directory();
    expect(shim.count('directory')).toBe(1);
  });

  it('a CA without ARI or profiles: no renewalInfo, no profiles, and renewalInfo() asks nothing', async () => {
    const plain = await startAriShim({ upstream: stack, ari: false });
    try {
      const { acme } = await session(plain.directoryUrl, plain.caBundlePath, await tempDir());
      const directory = await acme.directory();
      expect(directory.renewalInfo).toBeUndefined();
      expect(directory.profiles).toBeUndefined();
      const result = await acme.renewalInfo('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
      expect(result).toMatchObject({ ok: false, failure: 'unsupported' });
      expect(plain.count('renewal-info')).toBe(0);
    } finally {
      await plain.stop();
    }
  });
});

describe('renewalInfo against real Pebble certificates', () => {
  it("computes the certificate's id as an independent parser does, and reads the CA's default window", async () => {
    const { acme } = await session();
    const { bundle } = await issue(acme);
    const id = ariCertId(bundle.certificate);
    expect(id).toBe(shim.certId(bundle.certificate));
    const before = Date.now();
    const result = await acme.renewalInfo(id as string);
    if (!result.ok) throw new Error(result.message);
    const { notBefore, notAfter } = bundle.info;
    // Pebble's default: a 2-day window around two thirds of the lifetime, within it.
    expect(result.window.start.getTime()).toBeGreaterThanOrEqual(notBefore.getTime());
    expect(result.window.end.getTime()).toBeLessThanOrEqual(notAfter.getTime());
    expect(result.window.end.getTime() - result.window.start.getTime()).toBe(2 * DAY);
    // Retry-After 21600: fetch again in 6 h.
    expect(result.nextFetch.getTime() - before).toBeGreaterThanOrEqual(6 * HOUR - 1000);
    expect(result.nextFetch.getTime() - before).toBeLessThanOrEqual(6 * HOUR + 5000);
  });

  it('follows a window the CA moves, with its explanationURL and Retry-After', async () => {
    const { acme } = await session();
    const { bundle } = await issue(acme);
    const start = new Date(Date.now() - 2 * DAY);
    const end = new Date(Date.now() - DAY);
    shim.setRenewalInfo(bundle.certificate, {
      window: { start, end },
      explanationURL: 'https://community.example/t/incident-2026?x=1&y=%20',
      retryAfter: '7200',
    });
    const before = Date.now();
    const result = await acme.renewalInfo(ariCertId(bundle.certificate) as string);
    expect(result).toMatchObject({
      ok: true,
      window: { start, end, explanationURL: 'https://community.example/t/incident-2026?x=1&y=%20' },
    });
    expect((result as { nextFetch: Date }).nextFetch.getTime() - before).toBeGreaterThanOrEqual(2 * HOUR - 1000);
    expect((result as { nextFetch: Date }).nextFetch.getTime() - before).toBeLessThanOrEqual(2 * HOUR + 5000);
  });

  it('reports every failure mode as a result, never as an exception', async () => {
    const { acme } = await session();
    const { bundle } = await issue(acme);
    const id = ariCertId(bundle.certificate) as string;
    const cases = [
      [{ fail: 'timeout' } as const, { failure: 'timeout' }],
      [{ fail: 'status', status: 500 } as const, { failure: 'http', status: 500 }],
      [{ fail: 'status', status: 503, retryAfter: '3600' } as const, { failure: 'http', status: 503 }],
      [{ fail: 'malformed' } as const, { failure: 'malformed' }],
      [
        { window: { start: new Date(Date.now() + 2 * DAY), end: new Date(Date.now() + DAY) } },
        { failure: 'invalid-window' },
      ],
    ] as const;
    for (const [answer, expected] of cases) {
      shim.setRenewalInfo(id, answer);
      const started = Date.now();
      const result = await acme.renewalInfo(id, { timeoutMs: 300 });
      expect(result, JSON.stringify(answer)).toMatchObject({ ok: false, ...expected });
      expect((result as { message: string }).message).toContain(id);
      expect(Date.now() - started).toBeLessThan(3000);
      if ('status' in answer && answer.status === 503) {
        // The CA's Retry-After on an error is kept (clamped): 1 h.
        const next = (result as { nextFetch?: Date }).nextFetch;
        expect(next && next.getTime() - started).toBeGreaterThanOrEqual(HOUR - 1000);
      }
    }
    shim.setRenewalInfo(id, undefined);
    // A certificate the CA does not know: 404.
    expect(await acme.renewalInfo('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE')).toMatchObject({
      ok: false,
      failure: 'http',
      status: 404,
    });
  });

  it('a renewalInfo endpoint that is down is a network failure, not a throw', async () => {
    const down = await startAriShim({ upstream: stack });
    const { acme } = await session(down.directoryUrl, down.caBundlePath, await tempDir());
    await acme.directory();
    await down.stop();
    const result = await acme.renewalInfo('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE', { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, failure: 'network' });
    expect((result as { message: string }).message).toContain('ECONNREFUSED');
  });
});

describe('replaces', () => {
  it('is sent with the renewal order and accepted; a second replacement of the same certificate is refused (409) and survived', async () => {
    const { acme, log } = await session();
    const first = await issue(acme);
    const id = ariCertId(first.bundle.certificate) as string;

    shim.resetLog();
    const second = await issue(acme, { replaces: id, domains: first.domains });
    expect(second.replaces).toEqual({ certId: id, accepted: true });
    expect(shim.orders).toMatchObject([{ replaces: id, status: 201, identifiers: first.domains }]);
    expect(shim.certificates.find((c) => c.certId === id)?.replacedBy).toBe(ariCertId(second.bundle.certificate));

    shim.resetLog();
    const third = await issue(acme, { replaces: id, domains: first.domains });
    expect(third.replaces).toMatchObject({ certId: id, accepted: false });
    expect((third.replaces as { refusal: string }).refusal).toContain('alreadyReplaced');
    // Exactly one more order, without replaces.
    expect(shim.orders.map((o) => [o.status, o.problem, o.replaces])).toEqual([
      [409, 'alreadyReplaced', id],
      [201, undefined, undefined],
    ]);
    expect(log.lines.some((l) => l.includes(`refused replaces=${id}`))).toBe(true);
  });

  it.each([
    ['unknownIssuer', 404, 'malformed'],
    ['unknownSerial', 404, 'malformed'],
    ['unauthorized', 403, 'unauthorized'],
    ['serverInternal', 500, 'serverInternal'],
  ] as const)('a %s refusal is retried once without replaces', async (refusal, status, problem) => {
    const { acme } = await session();
    const first = await issue(acme);
    const id = ariCertId(first.bundle.certificate) as string;
    shim.resetLog();
    shim.refuseReplaces(refusal);
    const placed = await acme.placeOrder(first.domains, { replaces: id });
    expect(placed.replaces).toMatchObject({ certId: id, accepted: false });
    // 'ready' when Pebble reused the authorizations the first issuance validated: its reuse test is
    // `rand.Intn(100) > PEBBLE_AUTHZREUSE`, so even 0 reuses one time in a hundred.
    expect(['pending', 'ready']).toContain(placed.order.status);
    // A 5xx answer to an order with replaces is not retried with it: one refusal, one plain order.
    expect(shim.orders.map((o) => [o.status, o.problem, o.replaces])).toEqual([
      [status, problem, id],
      [201, undefined, undefined],
    ]);
  });

  it('an order for a certificate of another CA (unknown issuer) is placed without replaces', async () => {
    const { acme } = await session();
    const zone = uniqueZone('ca-change');
    shim.resetLog();
    const placed = await acme.placeOrder([zone], { replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' });
    expect(placed.replaces).toMatchObject({ accepted: false });
    expect((placed.replaces as { refusal: string }).refusal).toContain('did not match a known issuer');
    expect(shim.orders.map((o) => o.status)).toEqual([404, 201]);
  });

  it('a rate limit is not retried: it applies with replaces or without', async () => {
    const { acme } = await session();
    const first = await issue(acme);
    shim.resetLog();
    shim.rateLimitOrders(1, 600);
    const error = await acme
      .placeOrder(first.domains, { replaces: ariCertId(first.bundle.certificate) as string })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeError);
    expect(error).toMatchObject({ errorClass: 'acme-rate-limited' });
    expect((error as AcmeError).retryAfter!.getTime()).toBeGreaterThan(Date.now() + 500_000);
    expect(shim.count('new-order')).toBe(1);
  });
});

describe('profiles', () => {
  it('sends the profile; a shortlived certificate has no CN, a 160 h lifetime, and a CSR without CN', async () => {
    const { acme } = await session();
    shim.resetLog();
    const issued = await issue(acme, { profile: 'shortlived' });
    expect(shim.orders).toMatchObject([{ profile: 'shortlived', status: 201, csrCommonName: null }]);
    const { info } = issued.bundle;
    expect(info.subject).toBe('');
    expect(new X509Certificate(issued.bundle.certificate).subject).toBeUndefined();
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(160 * HOUR - 1000);
    expect(info.dnsNames).toEqual(issued.domains);
    // The chain certkeeper verified and would store: the leaf and the CA that signed it.
    expect(splitPemChain(issued.bundle.fullchain)).toHaveLength(2);
    expect(ariCertId(issued.bundle.certificate)).toBe(shim.certId(issued.bundle.certificate));
    expect(parseCertificate(issued.bundle.fullchain).subject).toBe('');
  });

  it('without a profile the CSR keeps the CN (CAs without profiles may insist on a subject)', async () => {
    const { acme } = await session();
    shim.resetLog();
    const issued = await issue(acme);
    expect(shim.orders).toMatchObject([{ status: 201, csrCommonName: issued.domains[0] }]);
    expect(shim.orders[0]!.profile).toBeUndefined();
  });

  it('an unknown profile fails with class config, naming what the CA offers, before any order', async () => {
    const { acme } = await session();
    shim.resetLog();
    const error = await acme.placeOrder([uniqueZone('prof')], { profile: 'longlived' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeError);
    expect(error).toMatchObject({ errorClass: 'config' });
    expect((error as Error).message).toContain('"longlived"');
    expect((error as Error).message).toContain('classic, tlsserver, shortlived');
    expect(shim.count('new-order')).toBe(0);
  });

  it("the CA's own invalidProfile refusal is class config too", async () => {
    const { acme } = await session();
    const error = await acme.newOrder([uniqueZone('prof')], { profile: 'longlived' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ errorClass: 'config', problemType: 'urn:ietf:params:acme:error:invalidProfile' });
  });
});

describe('network errors reach the classification', () => {
  it('a CA that refuses connections is class network with the error code, not a TypeError', async () => {
    const port = await freePort();
    const error = await session(`https://127.0.0.1:${port}/dir`, shim.caBundlePath, await tempDir()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AcmeError);
    expect(error).toMatchObject({ errorClass: 'network' });
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain('Cannot read properties');
  });
});

describe('order and authorization requests never overlap (the Pebble deadlock PhaseGate avoids)', () => {
  it('ten issuances in one session, started 15 ms apart: no order request is at the CA while an authorization request is', async () => {
    const { acme } = await session();
    shim.resetLog();
    const issued = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 15));
        const zone = uniqueZone('gate');
        return issue(acme, { domains: [zone, `www.${zone}`] });
      }),
    );
    expect(issued).toHaveLength(10);
    const done = shim.requests.filter((r) => r.endedMs !== undefined);
    const orders = done.filter((r) => r.kind === 'new-order' || r.kind === 'order' || r.kind === 'finalize');
    const authorizations = done.filter((r) => r.kind === 'authorization');
    expect(orders.filter((r) => r.kind === 'new-order')).toHaveLength(10);
    expect(orders.filter((r) => r.kind === 'finalize')).toHaveLength(10);
    expect(authorizations.length).toBeGreaterThanOrEqual(40);
    const overlaps = (a: ShimRequest, b: ShimRequest) =>
      a.startedMs < (b.endedMs as number) && b.startedMs < (a.endedMs as number);
    const crossed = orders.flatMap((o) =>
      authorizations.filter((a) => overlaps(o, a)).map((a) => `${o.path} × ${a.path}`),
    );
    expect(crossed).toEqual([]);
    // Within a phase the requests still run together: the gate separates phases, it does not queue.
    const together = authorizations.filter((a) => authorizations.some((b) => b !== a && overlaps(a, b)));
    expect(together.length).toBeGreaterThan(0);
  });
});
