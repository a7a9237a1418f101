import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createServer, type Server } from 'node:tls';
import {
  type HostedZone,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { FileStore } from '../../src/adapters/store/file/store.js';
import { parseCertificate } from '../../src/core/certinfo.js';
import { systemClock } from '../../src/ports/clock.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { makeCertificate } from './fixtures.js';
import { registerSecret } from './secrets-guard.js';

/** Helpers for the doctor's tests: stored certificates, endpoints, unwritable stores, "nothing changed" snapshots. */

/** A certkeeper/v1 record whose `serialNumber` is its certificate's real serial, written into a file store. */
export async function seedCertificate(dir: string, id: string, domains: string[]): Promise<StoredCertificate> {
  const draft = await makeCertificate(id, domains);
  const info = parseCertificate(draft.certificate);
  const cert: StoredCertificate = {
    ...draft,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
  };
  registerSecret(cert.privateKey);
  await new FileStore(dir, id, systemClock).write(cert);
  return cert;
}

/** A TLS server on 127.0.0.1 serving `cert` (its leaf and key) to every client. */
export async function startTlsEndpoint(cert: Pick<StoredCertificate, 'certificate' | 'privateKey'>): Promise<{
  address: string;
  stop(): Promise<void>;
}> {
  const server: Server = createServer({ cert: cert.certificate, key: cert.privateKey });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { address: `127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Makes a directory unwritable, also for root (the tests run as root here, which chmod alone does
 * not stop): mode 0555, and the immutable attribute when running as root. Returns the undo.
 */
export async function makeReadOnly(dir: string): Promise<() => Promise<void>> {
  await chmod(dir, 0o555);
  const root = process.getuid?.() === 0;
  if (root) execFileSync('chattr', ['+i', dir]);
  return async () => {
    if (root) execFileSync('chattr', ['-i', dir]);
    await chmod(dir, 0o755);
  };
}

/** Every entry under `dir` with its content hash (links by target, directories by name): equal means unchanged. */
export async function treeSnapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(path: string): Promise<void> {
    for (const entry of await readdir(path)) {
      const full = join(path, entry);
      const rel = relative(dir, full);
      const st = await lstat(full);
      if (st.isSymbolicLink()) out[rel] = `link ${await readlink(full)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o777).toString(8)}`;
        await walk(full);
      } else
        out[rel] = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
    }
  }
  await walk(dir);
  return out;
}

/** Every hosted zone (named so) of a Route 53 (moto) with every record set: equal means no record was left or changed. */
export async function zonesSnapshot(
  client: Route53Client,
  only: (zone: string) => boolean = () => true,
): Promise<unknown> {
  const zones: HostedZone[] = [];
  let marker: string | undefined;
  do {
    const out = await client.send(new ListHostedZonesCommand(marker ? { Marker: marker } : {}));
    zones.push(...(out.HostedZones ?? []).filter((z) => only(z.Name ?? '')));
    marker = out.IsTruncated ? out.NextMarker : undefined;
  } while (marker);
  return Promise.all(
    zones.map(async (z) => ({
      zone: z.Name,
      records: (await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: z.Id }))).ResourceRecordSets,
    })),
  );
}
