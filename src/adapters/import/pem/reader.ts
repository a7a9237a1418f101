import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { CertkeeperError } from '../../../ports/errors.js';
import type { CertificateReader, ImportScan } from '../../../ports/import.js';

/** PEM files given one by one: `--cert` (the leaf, or leaf + chain), `--key`, `--chain`. */
export async function openPemReader(input: { cert: string; key: string; chain?: string }): Promise<CertificateReader> {
  const cert = resolve(input.cert);
  return {
    tool: 'pem',
    origin: cert,
    async scan(): Promise<ImportScan> {
      const read = async (flag: string, path: string) => {
        try {
          return await readFile(resolve(path), 'utf8');
        } catch (error) {
          throw new CertkeeperError(
            'config',
            `pem: ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
            {
              hint: `${flag} names a PEM file that must exist and be readable`,
            },
          );
        }
      };
      const [certificate, privateKey, chain] = await Promise.all([
        read('--cert', input.cert),
        read('--key', input.key),
        input.chain ? read('--chain', input.chain) : Promise.resolve(''),
      ]);
      return {
        found: [
          {
            name: basename(cert).replace(/\.(pem|crt|cer)$/i, ''),
            source: cert,
            certificate,
            chain,
            privateKey,
            metadata: {},
          },
        ],
        unreadable: [],
      };
    },
  };
}
