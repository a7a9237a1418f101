import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import {
  createRfc2136Provider,
  type Rfc2136Config,
  type Rfc2136Deps,
} from '../../../src/adapters/dns/rfc2136/provider.js';

import type { AuthDnsServer } from '../../../src/devstack/authdns.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DnsProvider } from '../../../src/ports/dns.js';
import { DnsProviderError } from '../../../src/ports/errors.js';
import { recordingLogger } from '../../support/logger.js';
import { registerSecret } from '../../support/secrets-guard.js';

export { txtValues } from '../../support/certkeeper.js';

/** A zone name of this test file's own: servers run per file, but names stay unique anyway. */
export function testZone(tag: string): string {
  return `${tag}-${process.pid}-${randomBytes(3).toString('hex')}.test`;
}

export function registerKeys(server: AuthDnsServer): void {
  for (const k of server.keys) registerSecret(k.secret);
}

export function rfc2136(
  server: AuthDnsServer | { address: string },
  keyName: string,
  overrides: Partial<Rfc2136Config> & { secret?: string } = {},
  deps: Partial<Rfc2136Deps> = {},
): DnsProvider {
  const { secret, ...rest } = overrides;
  const key = 'key' in server ? server.key(keyName) : undefined;
  return createRfc2136Provider(
    {
      server: server.address,
      tsig: { name: keyName, algorithm: key?.algorithm ?? 'hmac-sha256', secret: secret ?? key?.secret ?? '' },
      ...rest,
    },
    { clock: systemClock, logger: recordingLogger(), udpTimeoutMs: 500, ...deps },
  );
}

/** The DnsProviderError a promise rejects with; its message and hint carry no key material. */
export async function providerError(promise: Promise<unknown>, server?: AuthDnsServer): Promise<DnsProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DnsProviderError);
  const e = error as DnsProviderError;
  expect(e.message).toMatch(/^(rfc2136|powerdns): /);
  expect(e.hint).toBeTruthy();
  for (const k of server?.keys ?? []) {
    expect(e.message).not.toContain(k.secret);
    expect(e.hint).not.toContain(k.secret);
  }
  return e;
}
