import type { ReaderDescriptor } from '../../../ports/import.js';

export const acmeShReader: ReaderDescriptor = {
  tool: 'acme.sh',
  doc: "acme.sh's home or --cert-home (default ~/.acme.sh): <domain>[_ecc]/<domain>.{cer,key,conf}, ca.cer",
  async open(input) {
    if (!('path' in input)) throw new Error('acme.sh: reads a directory, not --cert/--key');
    const { openAcmeShReader } = await import('./reader.js');
    return openAcmeShReader(input);
  },
};
