import type { ReaderDescriptor } from '../../../ports/import.js';

export const legoReader: ReaderDescriptor = {
  tool: 'lego',
  doc: "lego's --path (default ./.lego): certificates/<domain>.{crt,key,issuer.crt,json}",
  async open(input) {
    if (!('path' in input)) throw new Error('lego: reads a directory, not --cert/--key');
    const { openLegoReader } = await import('./reader.js');
    return openLegoReader(input);
  },
};
