import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CertkeeperError } from '../../../ports/errors.js';
import type { CertificateReader, ImportScan, ToolMetadata } from '../../../ports/import.js';

/**
 * acme.sh's layout (`_initpath` in acme.sh): each certificate has a directory
 * `<cert-home>/<domain>` (RSA keys) or `<domain>_ecc` (EC keys), where `<domain>` is the main
 * domain as given, `*` included. In it: `<domain>.cer` (the leaf), `ca.cer` (the intermediates),
 * `fullchain.cer`, `<domain>.key` and `<domain>.conf`, whose lines are `Le_Key='value'` (written by
 * `_setopt`; hook commands base64-wrapped between `__ACME_BASE64__START_`/`_END_`). `Le_Alt` is the
 * other names, comma separated, or `no`; `Le_Keylength` is `ec-256`, `ec-384` or an RSA size.
 */

const ECC_SUFFIX = '_ecc';
const B64_START = '__ACME_BASE64__START_';

const isFile = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() ?? false;

/** The `Le_*` values of a domain conf; base64-wrapped ones (hook commands) are left out. */
export function parseDomainConf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    const value = (m[2] ?? '').trim().replace(/^'(.*)'$/, '$1');
    if (value.startsWith(B64_START)) continue;
    out[m[1] as string] = value;
  }
  return out;
}

function metadataOf(conf: Record<string, string>): ToolMetadata {
  const meta: ToolMetadata = {};
  if (conf.Le_API) meta.server = conf.Le_API;
  if (conf.Le_Keylength) meta.keyType = conf.Le_Keylength;
  const names = [conf.Le_Domain, ...(conf.Le_Alt && conf.Le_Alt !== 'no' ? conf.Le_Alt.split(',') : [])]
    .map((d) => d?.trim())
    .filter((d): d is string => Boolean(d));
  if (names.length) meta.domains = names;
  if (conf.Le_NextRenewTimeStr) meta.nextRenewal = conf.Le_NextRenewTimeStr;
  return meta;
}

export async function openAcmeShReader(input: { path: string }): Promise<CertificateReader> {
  const home = resolve(input.path);
  const entries = await readdir(home, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new CertkeeperError('config', `acme.sh: cannot read ${home} (${error.code ?? error.message})`, {
      hint: "give acme.sh's home (default ~/.acme.sh) or its --cert-home",
    });
  });
  const domainDirs: { dir: string; domain: string }[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const domain = e.name.endsWith(ECC_SUFFIX) ? e.name.slice(0, -ECC_SUFFIX.length) : e.name;
    // Only directories holding `<domain>.conf` are certificates (not ca/, deploy/, dnsapi/, …).
    if (await isFile(join(home, e.name, `${domain}.conf`))) domainDirs.push({ dir: join(home, e.name), domain });
  }
  if (domainDirs.length === 0) {
    throw new CertkeeperError(
      'config',
      `acme.sh: ${home} holds no certificate directory (<domain>[_ecc]/<domain>.conf)`,
      {
        hint: "give acme.sh's home (default ~/.acme.sh) or its --cert-home",
      },
    );
  }
  domainDirs.sort((a, b) => a.dir.localeCompare(b.dir));
  return {
    tool: 'acme.sh',
    origin: home,
    async scan(): Promise<ImportScan> {
      const scan: ImportScan = { found: [], unreadable: [] };
      for (const { dir, domain } of domainDirs) {
        const read = (f: string) =>
          readFile(join(dir, f), 'utf8').catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined;
            throw error;
          });
        const [conf, cer, ca, key] = await Promise.all([
          read(`${domain}.conf`),
          read(`${domain}.cer`),
          read('ca.cer'),
          read(`${domain}.key`),
        ]);
        const missing = [cer === undefined && `${domain}.cer`, key === undefined && `${domain}.key`].filter(Boolean);
        if (missing.length) {
          scan.unreadable.push({
            name: domain,
            source: dir,
            reason: `${missing.join(' and ')} missing (an order that never completed?)`,
          });
          continue;
        }
        scan.found.push({
          name: domain,
          source: dir,
          certificate: cer as string,
          chain: ca ?? '',
          privateKey: key as string,
          metadata: metadataOf(parseDomainConf(conf ?? '')),
        });
      }
      return scan;
    },
  };
}
