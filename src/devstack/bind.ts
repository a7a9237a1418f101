import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthDnsServer,
  keyLookup,
  type TsigKeySpec,
  tsigKeygen,
  waitForZone,
  withPortRetry,
  type ZoneSpec,
  zoneFile,
} from './authdns.js';
import { freePort, startManaged } from './process.js';

export interface BindOptions {
  zones: ZoneSpec[];
  keys?: TsigKeySpec[];
  /** named dies by itself after this long even if nobody calls stop() (default 600). */
  maxLifetimeSec?: number;
}

/**
 * BIND 9 as an unprivileged primary on a free loopback port: `named -g` (foreground, logs to
 * stderr), one zone file and journal per zone in a temp dir, keys from tsig-keygen, no rndc
 * channel (it would take the fixed port 953), no recursion.
 */
export async function startBind(opts: BindOptions): Promise<AuthDnsServer> {
  const first = opts.zones[0];
  if (!first) throw new Error('startBind: at least one zone');
  const dir = await mkdtemp(join(tmpdir(), 'certkeeper-bind-'));
  try {
    const keys = await Promise.all((opts.keys ?? []).map(tsigKeygen));
    await Promise.all(opts.zones.map((z) => writeFile(join(dir, `${z.name}.db`), zoneFile(z))));
    return await withPortRetry(async () => {
      const port = await freePort();
      const conf = [
        'options {',
        `  directory "${dir}";`,
        `  listen-on port ${port} { 127.0.0.1; };`,
        '  listen-on-v6 { none; };',
        '  pid-file none;',
        '  session-keyfile none;',
        '  recursion no;',
        '  dnssec-validation no;',
        '  notify no;',
        '};',
        'controls { };',
        ...keys.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`),
        ...opts.zones.map((z) => {
          const file = join(dir, `${z.name}.db`);
          const grants = (z.updateKeys ?? []).map((k) => `grant "${k}" zonesub TXT;`).join(' ');
          const update = !z.updateKeys?.length
            ? ''
            : z.bindAllowUpdate
              ? ` allow-update { ${z.updateKeys.map((k) => `key "${k}";`).join(' ')} };`
              : ` update-policy { ${grants} };`;
          return `zone "${z.name}" { type primary; file "${file}"; journal "${z.bindJournal ?? `${file}.jnl`}";${update} };`;
        }),
        '',
      ].join('\n');
      const confPath = join(dir, 'named.conf');
      await writeFile(confPath, conf);
      // One worker thread (-n 1): the machine is shared and a test server needs no more.
      const proc = startManaged('named', ['-g', '-n', '1', '-c', confPath], {
        cwd: dir,
        maxLifetimeSec: opts.maxLifetimeSec ?? 600,
      });
      try {
        await waitForZone(proc, 'named', port, first.name);
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
