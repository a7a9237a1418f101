import * as z from 'zod';
import type { OptionsOf, StoreDescriptor } from '../../../ports/adapter.js';

const options = {
  dir: z
    .string()
    .min(1)
    .default('.certkeeper')
    .meta({ description: 'Directory; files go to <dir>/<id>/{cert,chain,fullchain,privkey}.pem and meta.json.' }),
};

export type FileStoreConfig = OptionsOf<typeof options> & { type: string };

export const fileStore: StoreDescriptor<typeof options> = {
  kind: 'store',
  name: 'file',
  doc:
    'PEM files and meta.json on disk: `<dir>/<id>/{cert,chain,fullchain,privkey}.pem` (privkey 0600), written as a ' +
    'complete version directory and swapped in with one rename, the last three versions kept under ' +
    '`<dir>/.versions/<id>/` for rollback. The lease is `<dir>/<id>.lock`, the ACME account ' +
    '`<dir>/_account/<host>[_<port>].json`. The default store.',
  options,
  secrets: [],
  permissions: (config) => ({ grants: [`read and write access to ${config.dir}`] }),
  async create(config, certificateId, ctx) {
    const { FileStore } = await import('./store.js');
    return new FileStore(config.dir, certificateId, ctx.clock);
  },
  async accountStore(config, ctx) {
    const { FileAccountStore } = await import('./account.js');
    return new FileAccountStore(config.dir, ctx.clock);
  },
};
