// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { rfc2136 } from '../../../../src/adapters/dns/rfc2136/descriptor.js';
import { registry } from '../../../../src/adapters/registry.js';
import { parseConfig } from '../../../../src/core/config/parse.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { ConfigError } from '../../../../src/ports/errors.js';
import { recordingLogger } from '../../../support/logger.js';

const schema = z.strictObject(rfc2136.options);
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

  it('a server without a port, or a port that is not a number (the shared host:port check)', () => {
    for (const server of ['ns1.example.com', '2001:db8::53', 'ns1.example.com:dns', 'ns1.example.com:']) {
      expect(issues({ ...valid, server })).toEqual([
        { path: 'server', message: 'must be "host:port" (IPv6 as "[::1]:53")' },
      ]);
    }
  });

  it('a port out of range', () => {
    for (const server of ['ns1.example.com:70000', 'ns1.example.com:0']) {
      expect(issues({ ...valid, server })).toEqual([{ path: 'server', message: 'port must be between 1 and 65535' }]);
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
    expect(rfc2136.secrets).toEqual(['tsig.secret']);
    const config = {
      ...schema.parse(valid),
      provider: 'rfc2136',
      ttl: 60,
      propagation: { timeoutMs: 1, intervalMs: 1 },
    };
    const { grants } = await rfc2136.permissions(config, {
      certificate: { id: 'c', domains: ['example.com', '*.example.com'] },
      challengeNames: ['_acme-challenge.example.com'],
      directoryUrl: 'https://acme.example/dir',
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
    const p = await rfc2136.create(config, {
      clock: systemClock,
      logger: recordingLogger(),
      env: {},
      entry: 'cli',
      lookup: {} as never,
    });
    expect(p.name).toBe('rfc2136');
  });

  it('through the config: each bad field is an issue naming its path; the secret only as ${env:…}', () => {
    const config = (dns: Record<string, unknown>, env: Record<string, string> = {}) => {
      try {
        parseConfig(
          {
            version: 1,
            acme: { directory: 'https://acme.example/dir' },
            certificates: [
              { id: 'a', domains: ['example.com'], dns: { provider: 'rfc2136', ...dns }, store: { type: 'file' } },
            ],
          },
          { registry, env },
        );
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).issues;
      }
    };
    expect(config({ server: 'ns1.example.com:53', tsig: { name: 'k', secret: '${env:K}' } }, { K: secret })).toEqual(
      [],
    );
    expect(config({ server: 'ns1.example.com:53', tsig: { name: 'k', secret } })).toEqual([
      { path: 'certificates[0].dns.tsig.secret', message: expect.stringContaining('write it as "${env:NAME}"') },
    ]);
    const issues = config(
      { server: 'ns1.example.com', tsig: { name: 'k', algorithm: 'hmac-md5', secret: '${env:K}' } },
      { K: 'not base64!' },
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'certificates[0].dns.server',
      'certificates[0].dns.tsig.algorithm',
      'certificates[0].dns.tsig.secret',
    ]);
    expect(JSON.stringify(issues)).not.toContain('not base64!');
  });
});
