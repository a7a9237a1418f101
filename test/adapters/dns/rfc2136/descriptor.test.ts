import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { rfc2136Descriptor } from '../../../../src/adapters/dns/rfc2136/descriptor.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { silentLogger } from '../../../../src/ports/logger.js';

const schema = z.strictObject(rfc2136Descriptor.options);
const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I='; // base64, not a real key
const valid = { server: 'ns1.example.com:53', tsig: { name: 'acme', secret } };

function issues(input: unknown): { path: string; message: string }[] {
  const r = schema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('rfc2136 options (bad input is a config issue before any network)', () => {
  it('accepts host:port, [IPv6]:port and defaults the algorithm to hmac-sha256', () => {
    expect(schema.parse(valid).tsig.algorithm).toBe('hmac-sha256');
    expect(issues({ ...valid, server: '[2001:db8::53]:5353' })).toEqual([]);
    expect(issues({ ...valid, server: '192.0.2.53:53', zone: 'example.com' })).toEqual([]);
  });

  it('a server without a port', () => {
    expect(issues({ ...valid, server: 'ns1.example.com' })).toEqual([
      { path: 'server', message: expect.stringMatching(/^must be host:port: the port is required/) },
    ]);
    expect(issues({ ...valid, server: '2001:db8::53' })).toEqual([
      { path: 'server', message: expect.stringMatching(/IPv6 address in brackets/) },
    ]);
  });

  it('a port that is not a number, or out of range', () => {
    for (const server of ['ns1.example.com:dns', 'ns1.example.com:', 'ns1.example.com:70000', 'ns1.example.com:0']) {
      expect(issues({ ...valid, server })).toEqual([
        { path: 'server', message: expect.stringMatching(/^the port must be a number from 1 to 65535/) },
      ]);
    }
  });

  it('an unknown algorithm names the known ones', () => {
    expect(issues({ ...valid, tsig: { ...valid.tsig, algorithm: 'hmac-md5' } })).toEqual([
      {
        path: 'tsig.algorithm',
        message: 'unknown TSIG algorithm: use one of hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1',
      },
    ]);
  });

  it('a secret that is not base64, without repeating it', () => {
    for (const bad of ['not base64!', 'abc', 'YWJj=', '']) {
      const found = issues({ ...valid, tsig: { ...valid.tsig, secret: bad } });
      expect(found).toEqual([
        { path: 'tsig.secret', message: expect.stringMatching(/^must be the key secret in base64/) },
      ]);
      if (bad) expect(found[0]!.message).not.toContain(bad);
    }
  });

  it('unknown keys inside tsig are errors too', () => {
    expect(issues({ ...valid, tsig: { ...valid.tsig, algo: 'hmac-sha1' } }).map((i) => i.path)).toEqual(['tsig']);
  });

  it('declares the secret, and permissions name the grant for each server kind', async () => {
    expect(rfc2136Descriptor.secrets).toEqual(['tsig.secret']);
    const config = {
      ...schema.parse(valid),
      provider: 'rfc2136',
      ttl: 60,
      propagation: { timeoutMs: 1, intervalMs: 1 },
    };
    const { grants } = await rfc2136Descriptor.permissions(config, {
      certificate: { id: 'c', domains: ['example.com', '*.example.com'] },
      challengeNames: ['_acme-challenge.example.com'],
    });
    expect(grants!.join('\n')).toContain('update-policy { grant acme name _acme-challenge.example.com. TXT; };');
    expect(grants!.join('\n')).toContain('Knot: an acl with key: acme, action: update, update-type: TXT');
    expect(grants!.join('\n')).toContain('TSIG-ALLOW-DNSUPDATE=acme');
    expect(grants!.join('\n')).not.toContain(secret);
  });

  it('create() loads the implementation lazily and hands over clock and logger', async () => {
    const config = {
      ...schema.parse(valid),
      provider: 'rfc2136',
      ttl: 60,
      propagation: { timeoutMs: 1, intervalMs: 1 },
    };
    const p = await rfc2136Descriptor.create(config, {
      clock: systemClock,
      logger: silentLogger,
      env: {},
      entry: 'cli',
      lookup: {} as never,
    });
    expect(p.name).toBe('rfc2136');
  });
});
