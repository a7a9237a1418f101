import type { ReaderDescriptor } from '../../../ports/import.js';

export const pemReader: ReaderDescriptor = {
  tool: 'pem',
  doc: 'PEM files: --cert FILE (the leaf, or leaf + chain) --key FILE [--chain FILE]',
  async open(input) {
    if (!('cert' in input)) throw new Error('pem: needs --cert and --key');
    const { openPemReader } = await import('./reader.js');
    return openPemReader(input);
  },
};
