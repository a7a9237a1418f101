import type { CertificateStore, ReadResult, RenewalState, StoredCertificate } from '../../src/ports/store.js';
import { registerSecret } from '../support/secrets-guard.js';
import type { Issued, TestCa } from '../support/test-ca.js';

const DAY = 86_400_000;

/** A certkeeper/v1 record for a certificate the test CA issued. */
export function storedFrom(id: string, domains: string[], issued: Issued): StoredCertificate {
  registerSecret(issued.keyPem);
  return {
    format: 'certkeeper/v1',
    id,
    domains,
    certificate: issued.certPem,
    chain: issued.chainPem,
    fullchain: issued.certPem + issued.chainPem,
    privateKey: issued.keyPem,
    keyType: 'ec-p256',
    serialNumber: issued.serialNumber,
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
    issuer: 'CN=certkeeper test intermediate',
    issuedAt: issued.notBefore.toISOString(),
    issuedBy: { via: 'cli', runId: 'test' },
  };
}

/** A 90-day certificate with `left` days to go (negative: expired that long ago). */
export function issueWithDaysLeft(ca: TestCa, names: string[], left: number): Promise<Issued> {
  const notAfter = new Date(Date.now() + left * DAY);
  return ca.issue(names, { notBefore: new Date(notAfter.getTime() - 90 * DAY), notAfter });
}

/**
 * A store that keeps one record in memory and, like the store of the CA-guided work, a renewal
 * state record beside it. For the report's use of that optional port method, and for 500
 * certificates without 500 files.
 */
export function memoryStore(id: string, record?: StoredCertificate, state?: RenewalState): CertificateStore {
  return {
    type: 'memory',
    ref: `memory/${id}`,
    async read(): Promise<ReadResult> {
      return record ? { kind: 'found', certificate: record, version: record.serialNumber } : { kind: 'missing' };
    },
    async write() {
      throw new Error('memory store: read only');
    },
    async acquireLease() {
      throw new Error('memory store: read only');
    },
    ...(state ? { readRenewalState: async () => state } : {}),
  };
}
