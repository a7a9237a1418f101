import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CertkeeperError } from '../../../ports/errors.js';
import type { CertificateReader, FoundCertificate, ImportScan, ToolMetadata } from '../../../ports/import.js';

/**
 * lego's layout (cmd/certs_storage.go): `<path>/certificates/<name>.crt` (the leaf followed by its
 * issuer unless `--no-bundle`), `<name>.issuer.crt`, `<name>.key` and `<name>.json` (`domain`,
 * `certUrl`, `certStableUrl`), where `<name>` is the main domain with `*` written as `_` and `:` as
 * `-`, in punycode. A certificate lego issued from a `--csr` has no `.key`: its key never was lego's.
 */

const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function metadataOf(json: string | undefined): { domain?: string; metadata: ToolMetadata } {
  if (json === undefined) return { metadata: {} };
  try {
    const v = JSON.parse(json) as { domain?: unknown; certUrl?: unknown };
    const metadata: ToolMetadata = {};
    if (typeof v.certUrl === 'string') metadata.certUrl = v.certUrl;
    return { ...(typeof v.domain === 'string' ? { domain: v.domain } : {}), metadata };
  } catch {
    return { metadata: {} };
  }
}

export async function openLegoReader(input: { path: string }): Promise<CertificateReader> {
  const given = resolve(input.path);
  let dir = join(given, 'certificates');
  if (!(await isDir(dir))) {
    // Also accept the certificates directory itself.
    const files = (await isDir(given)) ? await readdir(given) : [];
    if (!files.some((f) => f.endsWith('.crt'))) {
      throw new CertkeeperError('config', `lego: ${given} has no certificates/ directory`, {
        hint: "give lego's --path (default ./.lego), where lego keeps accounts/ and certificates/",
      });
    }
    dir = given;
  }
  return {
    tool: 'lego',
    origin: given,
    async scan(): Promise<ImportScan> {
      const files = (await readdir(dir)).sort();
      const scan: ImportScan = { found: [], unreadable: [] };
      for (const file of files) {
        if (!file.endsWith('.crt') || file.endsWith('.issuer.crt')) continue;
        const base = file.slice(0, -'.crt'.length);
        const [certificate, key, issuer, json] = await Promise.all(
          [`${base}.crt`, `${base}.key`, `${base}.issuer.crt`, `${base}.json`].map((f) => readOptional(join(dir, f))),
        );
        const { domain, metadata } = metadataOf(json);
        const name = domain ?? base.replace(/^_\./, '*.');
        const source = join(dir, file);
        if (key === undefined) {
          scan.unreadable.push({
            name,
            source,
            reason: `no ${base}.key beside it (issued from a --csr? its key is not lego's to hand over)`,
          });
          continue;
        }
        const found: FoundCertificate = {
          name,
          source,
          certificate: certificate as string,
          chain: issuer ?? '',
          privateKey: key,
          metadata,
        };
        scan.found.push(found);
      }
      return scan;
    },
  };
}
