import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthDnsServer,
  keyLookup,
  type TsigKeyMaterial,
  type TsigKeySpec,
  waitForZone,
  withPortRetry,
  type ZoneSpec,
  zoneFile,
} from './authdns.js';
import { freePort, startManaged } from './process.js';

export interface KnotOptions {
  zones: ZoneSpec[];
  keys?: TsigKeySpec[];
  /** knotd dies by itself after this long even if nobody calls stop() (default 600). */
  maxLifetimeSec?: number;
}

const DIGEST_BYTES: Record<TsigKeySpec['algorithm'], number> = {
  'hmac-sha1': 20,
  'hmac-sha224': 28,
  'hmac-sha256': 32,
  'hmac-sha384': 48,
  'hmac-sha512': 64,
};

/**
 * Knot DNS as a primary on a free loopback port (`knotd -c`): zone files and journal in a temp
 * dir, an `update` acl per zone naming its keys, the control socket in the temp dir too. Keys
 * are random secrets of the digest's length, as `keymgr -t` makes them.
 */
export async function startKnot(opts: KnotOptions): Promise<AuthDnsServer> {
  const first = opts.zones[0];
  if (!first) throw new Error('startKnot: at least one zone');
  const dir = await mkdtemp(join(tmpdir(), 'certkeeper-knot-'));
  try {
    const keys: TsigKeyMaterial[] = (opts.keys ?? []).map((k) => ({
      ...k,
      secret: randomBytes(DIGEST_BYTES[k.algorithm]).toString('base64'),
    }));
    await mkdir(join(dir, 'db'));
    await Promise.all(opts.zones.map((z) => writeFile(join(dir, `${z.name}.zone`), zoneFile(z))));
    return await withPortRetry(async () => {
      const port = await freePort();
      const lines = [
        'server:',
        `  listen: 127.0.0.1@${port}`,
        `  rundir: "${dir}"`,
        '  udp-workers: 1',
        '  tcp-workers: 1',
        '  background-workers: 1',
        'control:',
        `  listen: "${join(dir, 'knot.sock')}"`,
        'log:',
        '  - target: stderr',
        '    any: info',
        'database:',
        `  storage: "${join(dir, 'db')}"`,
      ];
      if (keys.length) {
        lines.push('key:');
        for (const k of keys)
          lines.push(`  - id: ${k.name}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret}`);
      }
      const acls = opts.zones.filter((z) => z.updateKeys?.length);
      if (acls.length) {
        lines.push('acl:');
        for (const z of acls) {
          lines.push(
            `  - id: update-${z.name}`,
            `    key: [${z.updateKeys!.join(', ')}]`,
            '    action: update',
            '    update-type: TXT',
          );
        }
      }
      lines.push(
        'template:',
        '  - id: default',
        `    storage: "${dir}"`,
        '    zonefile-sync: -1',
        '    journal-content: changes',
      );
      lines.push('zone:');
      for (const z of opts.zones) {
        lines.push(`  - domain: ${z.name}`, `    file: "${z.name}.zone"`);
        if (z.updateKeys?.length) lines.push(`    acl: [update-${z.name}]`);
      }
      const confPath = join(dir, 'knot.conf');
      await writeFile(confPath, `${lines.join('\n')}\n`);
      const proc = startManaged('knotd', ['-c', confPath], { cwd: dir, maxLifetimeSec: opts.maxLifetimeSec ?? 600 });
      try {
        await waitForZone(proc, 'knotd', port, first.name);
      } catch (error) {
        await proc.stop();
        throw error;
      }
      let stopped: Promise<void> | undefined;
      return {
        address: `127.0.0.1:${port}`,
        host: '127.0.0.1',
        port,
        keys,
        key: keyLookup(keys),
        logs: proc.output,
        stop: () => {
          stopped ??= proc.stop().then(() => rm(dir, { recursive: true, force: true }));
          return stopped;
        },
      };
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
