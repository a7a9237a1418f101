import { ariCertId } from '../../src/core/ari.js';
import type {
  AriState,
  CertificateStore,
  FailureState,
  ReadResult,
  RenewalState,
  StoredCertificate,
} from '../../src/ports/store.js';
import { registerSecret } from './secrets-guard.js';
import type { Issued, TestCa } from './test-ca.js';

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

/** A renewal state as tests write it: ARI's certId, draw and next fetch filled in for the stored certificate. */
export interface TestState {
  ari?: Pick<AriState, 'start' | 'end'> & Partial<AriState>;
  failures?: FailureState;
}

/**
 * A store that keeps one record in memory, with its renewal state beside it, as the real stores
 * do (readState/writeState). For 500 certificates without 500 files.
 */
export function memoryStore(id: string, record?: StoredCertificate, state?: TestState): CertificateStore {
  let kept: RenewalState = {};
  if (state?.failures) kept.failures = state.failures;
  if (state?.ari) {
    kept.ari = {
      certId: (record && ariCertId(record.certificate)) ?? 'none',
      selected: state.ari.start,
      nextFetch: new Date(Date.now() + 6 * 3_600_000).toISOString(),
      ...state.ari,
    };
  }
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
    async readState() {
      return kept;
    },
    async writeState(patch) {
      const next: RenewalState = { ...kept };
      if (patch.ari === null) delete next.ari;
      else if (patch.ari) next.ari = patch.ari;
      if (patch.failures === null) delete next.failures;
      else if (patch.failures) next.failures = patch.failures;
      kept = next;
    },
  };
}
