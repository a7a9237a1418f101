import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoute53Provider } from '../../src/adapters/dns/route53/provider.js';
import { challengeValue } from '../contract/dns-provider.js';
import { useMoto } from '../support/aws.js';
import { fakeClock } from '../support/clock.js';
import { recordingLogger } from '../support/logger.js';
import { type Route53Dns, startRoute53Dns } from '../support/route53-dns.js';

const aws = useMoto();
let dns: Route53Dns;
let admin: Route53Client;
let resolver: Resolver;
let zoneId: string;

async function put(name: string, type: RRType, values: string[], zone = zoneId) {
  await admin.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone,
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: { Name: name, Type: type, TTL: 60, ResourceRecords: values.map((Value) => ({ Value })) },
          },
        ],
      },
    }),
  );
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: NodeJS.ErrnoException) => e.code,
  );

beforeAll(async () => {
  admin = new Route53Client({});
  zoneId = (await admin.send(new CreateHostedZoneCommand({ Name: 'dns.example.com', CallerReference: 'dns' })))
    .HostedZone?.Id as string;
  const alias = (
    await admin.send(new CreateHostedZoneCommand({ Name: 'validation.example.net', CallerReference: 'alias' }))
  ).HostedZone?.Id as string;
  await put('_acme-challenge.cname.dns.example.com', 'CNAME', [
    '_acme-challenge.cname.dns.example.com.validation.example.net',
  ]);
  await put('_acme-challenge.cname.dns.example.com.validation.example.net', 'TXT', ['"via-alias"'], alias);
  await put('www.dns.example.com', 'A', ['192.0.2.7']);
  await put('deep.empty.dns.example.com', 'A', ['192.0.2.8']);
  await put('long.dns.example.com', 'TXT', [`"${'a'.repeat(255)}" "${'b'.repeat(45)}"`, '"caf\\303\\251"']);
  dns = await startRoute53Dns({ endpoint: aws.moto.endpoint });
  resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([dns.address]);
});

afterAll(async () => {
  await dns?.stop();
});

describe('route53-dns test server', () => {
  it('serves the TXT values the route53 provider writes, live (no caching)', async () => {
    const provider = createRoute53Provider(
      { provider: 'route53', ttl: 60, propagation: { timeoutMs: 120_000, intervalMs: 2000 } },
      { logger: recordingLogger(), clock: fakeClock(), clients: aws.clients },
    );
    const name = '_acme-challenge.site.dns.example.com';
    const [a, b] = [challengeValue(), challengeValue()];
    expect(await code(resolver.resolveTxt(name))).toBe('ENOTFOUND');
    await provider.present([
      { name, value: a },
      { name, value: b },
    ]);
    expect((await resolver.resolveTxt(name)).map((c) => c.join('')).sort()).toEqual([a, b].sort());
    await provider.cleanup([{ name, value: a }]);
    expect(await resolver.resolveTxt(name)).toEqual([[b]]);
    await provider.cleanup([{ name, value: b }]);
    expect(await code(resolver.resolveTxt(name))).toBe('ENOTFOUND');
  });

  it('joins multi-string TXT values and decodes escapes', async () => {
    // Node hands TXT bytes over as latin1 strings: turn them back into the UTF-8 that was served.
    const got = (await resolver.resolveTxt('long.dns.example.com')).map((c) =>
      Buffer.from(c.join(''), 'latin1').toString('utf8'),
    );
    expect(got.sort()).toEqual(['a'.repeat(255) + 'b'.repeat(45), 'caf\u00e9'].sort());
  });

  it('answers NXDOMAIN for missing names and NODATA for other types and empty non-terminals', async () => {
    expect(await code(resolver.resolveTxt('nope.dns.example.com'))).toBe('ENOTFOUND');
    expect(await code(resolver.resolveTxt('www.dns.example.com'))).toBe('ENODATA');
    expect(await code(resolver.resolveTxt('empty.dns.example.com'))).toBe('ENODATA');
    expect(await resolver.resolve4('www.dns.example.com')).toEqual(['192.0.2.7']);
  });

  it('follows a CNAME into another zone (CNAME-delegated validation)', async () => {
    expect(await resolver.resolveTxt('_acme-challenge.cname.dns.example.com')).toEqual([['via-alias']]);
    expect(await resolver.resolveCname('_acme-challenge.cname.dns.example.com')).toEqual([
      '_acme-challenge.cname.dns.example.com.validation.example.net',
    ]);
  });

  it('serves the zone NS and SOA', async () => {
    expect((await resolver.resolveNs('dns.example.com')).length).toBe(4);
    const soa = await resolver.resolveSoa('dns.example.com');
    expect(soa.nsname).toMatch(/awsdns/);
    expect(soa.hostmaster).toMatch(/^hostmaster\./);
  });

  it('refuses names outside every zone', async () => {
    expect(await code(resolver.resolveTxt('example.org'))).toBe('EREFUSED');
  });

  it('answers over TCP too', async () => {
    const query = dnsPacket.streamEncode({
      type: 'query',
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'www.dns.example.com' }],
    });
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const sock = connect(dns.port, '127.0.0.1', () => sock.write(query));
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          sock.end();
          resolve(buf);
        }
      });
      sock.on('error', reject);
    });
    const packet = dnsPacket.streamDecode(reply) as ReturnType<typeof dnsPacket.decode>;
    expect(packet.id).toBe(4242);
    expect(packet.flag_aa).toBe(true);
    expect(packet.answers?.[0]).toMatchObject({ type: 'A', name: 'www.dns.example.com', data: '192.0.2.7' });
  });
});
