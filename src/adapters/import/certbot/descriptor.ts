import type { ReaderDescriptor } from '../../../ports/import.js';

export const certbotReader: ReaderDescriptor = {
  tool: 'certbot',
  doc: "certbot's --config-dir (default /etc/letsencrypt): live/<name>/*.pem and renewal/<name>.conf",
  async open(input) {
    if (!('path' in input)) throw new Error('certbot: reads a directory, not --cert/--key');
    const { openCertbotReader } = await import('./reader.js');
    return openCertbotReader(input);
  },
};
