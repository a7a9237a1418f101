import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CertkeeperError } from '../../../ports/errors.js';
import type { CertificateReader, FoundCertificate, ImportScan, ToolMetadata } from '../../../ports/import.js';

/**
 * certbot's layout (certbot/_internal/storage.py): `<config-dir>/live/<lineage>/{cert,chain,
 * fullchain,privkey}.pem` are relative symlinks into `archive/<lineage>/<kind>N.pem` (N grows at
 * each renewal), and `renewal/<lineage>.conf` is a ConfigObj file whose `[renewalparams]` section
 * holds the server, key type and authenticator. The live links are read, not the paths in the
 * renewal conf: those are absolute and wrong once the directory was copied elsewhere, while the
 * relative links still resolve.
 */

const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
const exists = async (p: string) => (await lstat(p).catch(() => undefined)) !== undefined;

/** `key = value` lines of a ConfigObj file, the `[renewalparams]` ones prefixed `renewalparams.`. */
export function parseRenewalConf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[+([^\]]+)\]+$/.exec(line);
    if (header) {
      section = `${header[1]?.trim()}.`;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line
      .slice(eq + 1)
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2');
    out[`${section}${key}`] = value;
  }
  return out;
}

function metadataOf(conf: Record<string, string>): ToolMetadata {
  const p = (k: string) => conf[`renewalparams.${k}`];
  const keyType = p('key_type');
  const detail = keyType === 'ecdsa' ? p('elliptic_curve') : keyType === 'rsa' ? p('rsa_key_size') : undefined;
  const meta: ToolMetadata = {};
  if (p('server')) meta.server = p('server');
  if (keyType) meta.keyType = detail ? `${keyType} ${detail}` : keyType;
  if (p('authenticator')) meta.authenticator = p('authenticator');
  if (conf.version) meta.certbotVersion = conf.version;
  return meta;
}

/** Why a live file cannot be read, in words that name the broken link rather than an errno. */
async function describeMissing(file: string, root: string): Promise<string> {
  try {
    const target = await readlink(file);
    return `${relative(root, file)} points to ${target}, which does not exist`;
  } catch {
    return `${relative(root, file)} is missing`;
  }
}

async function readLineage(configDir: string, name: string): Promise<FoundCertificate | { reason: string }> {
  const live = join(configDir, 'live', name);
  const read = async (file: string) => {
    try {
      return { text: await readFile(join(live, file), 'utf8') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { missing: await describeMissing(join(live, file), configDir) };
      return { missing: `${relative(configDir, join(live, file))}: ${code ?? (error as Error).message}` };
    }
  };
  const [cert, chain, key] = await Promise.all([read('cert.pem'), read('chain.pem'), read('privkey.pem')]);
  for (const r of [cert, key]) if (r.missing !== undefined) return { reason: r.missing };
  let conf: Record<string, string> = {};
  try {
    conf = parseRenewalConf(await readFile(join(configDir, 'renewal', `${name}.conf`), 'utf8'));
  } catch {
    // A lineage without its renewal conf is still a certificate; only the metadata is lost.
  }
  const metadata = metadataOf(conf);
  const archived = await realpath(join(live, 'cert.pem')).catch(() => undefined);
  if (archived) metadata.archive = relative(configDir, archived);
  return {
    name,
    source: live,
    certificate: cert.text as string,
    chain: chain.text ?? '',
    privateKey: key.text as string,
    metadata,
  };
}

export async function openCertbotReader(input: { path: string }): Promise<CertificateReader> {
  const given = resolve(input.path);
  let configDir = given;
  let only: string | undefined;
  if (!(await isDir(join(given, 'live')))) {
    // Also accept one lineage's own directory, `<config-dir>/live/<name>`.
    if (basename(dirname(given)) === 'live' && (await exists(join(given, 'cert.pem')))) {
      configDir = dirname(dirname(given));
      only = basename(given);
    } else {
      throw new CertkeeperError('config', `certbot: ${given} has no live/ directory`, {
        hint: "give certbot's --config-dir (default /etc/letsencrypt), or one lineage's live/<name> directory",
      });
    }
  }
  return {
    tool: 'certbot',
    origin: given,
    async scan(): Promise<ImportScan> {
      const names = only
        ? [only]
        : (await readdir(join(configDir, 'live'), { withFileTypes: true }))
            .filter((e) => e.isDirectory() || e.isSymbolicLink())
            .map((e) => e.name)
            .sort();
      const scan: ImportScan = { found: [], unreadable: [] };
      for (const name of names) {
        const lineage = await readLineage(configDir, name);
        if ('reason' in lineage) scan.unreadable.push({ name, source: join(configDir, 'live', name), ...lineage });
        else scan.found.push(lineage);
      }
      return scan;
    },
  };
}
