import type { DnsDescriptor } from '../../../ports/adapter.js';
import { httpUrl } from '../../../ports/schema.js';

const options = {
  url: httpUrl('url', { httpsUnlessLoopback: true }).meta({
    description: "Management URL of Pebble's challenge test server, e.g. http://localhost:8055.",
  }),
};

export const challtestsrv: DnsDescriptor<typeof options> = {
  kind: 'dns',
  name: 'challtestsrv',
  doc:
    "Pebble's challenge test server, for local testing and the demo. It can only append a value or clear a whole " +
    'name, so cleanup clears the name and writes back the values this process still holds there.',
  options,
  secrets: [],
  permissions: () => ({ grants: ['none: a local test server'] }),
  async create(config, ctx) {
    const { createChalltestsrvProvider } = await import('./provider.js');
    return createChalltestsrvProvider(config, ctx.fetch ? { fetch: ctx.fetch } : {});
  },
};
