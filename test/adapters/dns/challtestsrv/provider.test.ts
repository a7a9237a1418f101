import { describe, expect, it } from 'vitest';
import { createChalltestsrvProvider } from '../../../../src/adapters/dns/challtestsrv/provider.js';
import { DnsProviderError } from '../../../../src/ports/errors.js';
import { dnsProviderContract } from '../../../contract/dns-provider.js';
import { txtValues } from '../../../support/certkeeper.js';
import { getStack } from '../../../support/stack.js';

const stack = getStack();
// One provider for the whole file, as one run uses one per DNS config.
const provider = createChalltestsrvProvider({ url: stack.challtestsrvUrl });

dnsProviderContract(
  'challtestsrv',
  () => provider,
  (name) => txtValues(stack.dnsResolver, name),
);

describe('challtestsrv provider', () => {
  it('names the server and the hint when it cannot reach it', async () => {
    const broken = createChalltestsrvProvider({ url: 'http://127.0.0.1:9' });
    const error = await broken.present([{ name: '_acme-challenge.x.example.com', value: 'v' }]).catch((e) => e);
    expect(error).toBeInstanceOf(DnsProviderError);
    expect(error.message).toMatch(/^challtestsrv: /);
    expect(error.hint).toContain('127.0.0.1:9');
  });
});
