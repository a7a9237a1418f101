import { lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Clock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import {
  type AcquireResult,
  type BreakLease,
  type CertificateStore,
  invalidStoredCertificate,
  type ReadResult,
  type RenewalState,
  type RenewalStatePatch,
  type StoredCertificate,
  type WriteResult,
} from '../../../ports/store.js';
import { isErrno, tmpSuffix, writeFileAtomic } from './fs.js';
import { FileLease } from './lease.js';
import { FileRenewalState } from './state.js';

/**
 * The file store (PRODUCT §2), the embedded default.
 *
 * `<dir>/<id>` is a symlink to `<dir>/.versions/<id>/<version>/` holding cert.pem, chain.pem,
 * fullchain.pem, privkey.pem (0600) and meta.json. A new version is written in full into a fresh
 * directory, then the symlink is swapped with one rename(2): a reader sees the old set or the new
 * set, never a mix (a plain per-file rename could pair a new cert with an old key). The previous
 * versions stay for rollback (certbot's archive/live layout does the same); the oldest are pruned.
 */

const KEEP_VERSIONS = 3;

export class FileStore implements CertificateStore {
  readonly type = 'file';
  readonly ref: string;
  private readonly live: string;
  private readonly versions: string;
  private readonly leases: FileLease;
  private readonly state: FileRenewalState;

  constructor(
    readonly dir: string,
    readonly id: string,
    clock: Clock,
  ) {
    this.live = join(dir, id);
    this.versions = join(dir, '.versions', id);
    this.leases = new FileLease(dir, id, clock);
    this.state = new FileRenewalState(dir, id);
    this.ref = this.live;
  }

  readState(): Promise<RenewalState> {
    return this.state.read();
  }

  writeState(patch: RenewalStatePatch): Promise<void> {
    return this.state.write(patch);
  }

  acquireLease(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult> {
    return this.leases.acquire(owner, ttlMs, onBreak);
  }

  async read(): Promise<ReadResult> {
    // Resolve the live link once and read every file from that one version directory: reading
    // through the link file by file could pair a certificate with the next version's key.
    for (let attempt = 0; ; attempt++) {
      let versionDir: string;
      try {
        const st = await lstat(this.live);
        versionDir = st.isSymbolicLink() ? resolve(dirname(this.live), await readlink(this.live)) : this.live;
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTDIR')) return { kind: 'missing' };
        return { kind: 'unreadable', reason: `cannot read ${this.live} (${(error as NodeJS.ErrnoException).code})` };
      }
      const result = await this.readVersion(versionDir);
      // A version pruned between readlink and the reads: the link has moved on, read again.
      if (result === 'gone' && attempt < 3) continue;
      return result === 'gone' ? { kind: 'missing' } : result;
    }
  }

  private async readVersion(dir: string): Promise<ReadResult | 'gone'> {
    let meta: string;
    try {
      meta = await readFile(join(dir, 'meta.json'), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return 'gone';
      return { kind: 'unreadable', reason: `cannot read meta.json (${(error as NodeJS.ErrnoException).code})` };
    }
    try {
      let parsed: StoredCertificate;
      try {
        parsed = JSON.parse(meta) as StoredCertificate;
      } catch {
        return { kind: 'unreadable', reason: 'meta.json is not JSON' };
      }
      const invalid = invalidStoredCertificate(parsed, { metaOnly: true });
      if (invalid) return { kind: 'unreadable', reason: `meta.json: ${invalid}` };
      const [certificate, chain, fullchain, privateKey] = await Promise.all(
        ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'].map((f) => readFile(join(dir, f), 'utf8')),
      );
      return {
        kind: 'found',
        certificate: {
          ...parsed,
          certificate: certificate!,
          chain: chain!,
          fullchain: fullchain!,
          privateKey: privateKey!,
        },
        // The version directory's name, as write() returns it; a plain directory (made by hand or
        // another tool) has no version name of its own: the serial then.
        version: dir === this.live ? (parsed.serialNumber as string) : basename(dir),
      };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return 'gone';
      return { kind: 'unreadable', reason: `broken store entry: ${(error as Error).message.split('\n')[0]}` };
    }
  }

  async write(cert: StoredCertificate): Promise<WriteResult> {
    try {
      const version = `${cert.issuedAt.replace(/[:.]/g, '-')}-${cert.serialNumber.slice(0, 16)}`;
      const target = join(this.versions, version);
      const staging = `${target}.tmp-${tmpSuffix()}`;
      await mkdir(staging, { recursive: true, mode: 0o700 });
      const { certificate, chain, fullchain, privateKey, ...meta } = cert;
      await Promise.all([
        writeFileAtomic(join(staging, 'cert.pem'), certificate, 0o644),
        writeFileAtomic(join(staging, 'chain.pem'), chain, 0o644),
        writeFileAtomic(join(staging, 'fullchain.pem'), fullchain, 0o644),
        writeFileAtomic(join(staging, 'privkey.pem'), privateKey, 0o600),
        writeFileAtomic(join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`, 0o644),
      ]);
      try {
        await rename(staging, target);
      } catch (error) {
        // A retried write of the same version: it is complete already (renamed in whole).
        if (!isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
        await rm(staging, { recursive: true, force: true });
      }
      await this.swapLive(target);
      await this.prune();
      return { ref: this.live, version };
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`file: cannot write ${this.live}: ${(error as Error).message}`, { cause: error });
    }
  }

  private async swapLive(target: string): Promise<void> {
    await mkdir(dirname(this.live), { recursive: true });
    try {
      const st = await lstat(this.live);
      if (!st.isSymbolicLink()) {
        // A real directory here (made by hand or another tool): keep it as a version, then link.
        await rename(this.live, join(this.versions, `legacy-${Date.now()}`));
      }
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    const tmpLink = join(dirname(this.live), `.${this.id}.link-${tmpSuffix()}`);
    await symlink(relative(dirname(this.live), target), tmpLink);
    await rename(tmpLink, this.live);
  }

  private async prune(): Promise<void> {
    const current = await readlink(this.live).catch(() => '');
    const names = (await readdir(this.versions).catch(() => [] as string[])).filter((n) => !n.includes('.tmp-')).sort();
    const old = names.slice(0, Math.max(0, names.length - KEEP_VERSIONS));
    for (const name of old) {
      if (current.endsWith(name)) continue;
      await rm(join(this.versions, name), { recursive: true, force: true });
    }
  }
}
