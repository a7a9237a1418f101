import { X509Certificate } from 'node:crypto';
import { createSelfSignedCert } from '../../src/devstack/tlscert.js';
import type { CertificateEvent } from '../../src/ports/hooks.js';
import type { StoredCertificate } from '../../src/ports/store.js';

/** Certificates, stored records and events for tests: one place, so every test builds them the same way. */

/** A certkeeper/v1 record with a real (self-signed) certificate and key, as ACM wants to parse it. */
export async function makeCertificate(
  id: string,
  domains: string[] = ['example.com', '*.example.com'],
  overrides: Partial<StoredCertificate> = {},
): Promise<StoredCertificate> {
  const { certPem, keyPem } = await createSelfSignedCert(domains, { validityDays: 30 });
  const { certPem: caPem } = await createSelfSignedCert(['certkeeper test intermediate'], { validityDays: 30 });
  const now = Date.now();
  return {
    format: 'certkeeper/v1',
    id,
    domains,
    certificate: certPem,
    chain: caPem,
    fullchain: certPem + caPem,
    privateKey: keyPem,
    keyType: 'ec-p256',
    serialNumber: Math.floor(Math.random() * 2 ** 48).toString(16),
    notBefore: new Date(now - 3_600_000).toISOString(),
    notAfter: new Date(now + 30 * 86_400_000).toISOString(),
    issuer: 'CN=certkeeper test',
    issuedAt: new Date(now).toISOString(),
    issuedBy: { via: 'cli', runId: 'test:1' },
    ...overrides,
  };
}

/** The body of every PEM private key in `text`, to assert that no log line or error carries one. */
export function keyMaterial(cert: StoredCertificate): string[] {
  return cert.privateKey
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .filter((l) => l.length >= 16);
}

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** Lower-case hex, as the stored format keeps it. */
  serial: string;
}

export async function makeCert(domains: string[]): Promise<TestCert> {
  const { certPem, keyPem } = await createSelfSignedCert(domains);
  return { certPem, keyPem, serial: new X509Certificate(certPem).serialNumber.toLowerCase() };
}

export function sampleEvent(
  overrides: Partial<CertificateEvent['data']> = {},
  type: CertificateEvent['type'] = 'certificate.renewed',
): CertificateEvent {
  return {
    type,
    id: '5f0c6c2e-6a43-4d7e-9a55-0d1f1f3f7c21',
    timestamp: new Date().toISOString(),
    data: {
      certificate: 'example-com',
      domains: ['example.com', '*.example.com'],
      serialNumber: '04a1b2c3',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
      previous: { serialNumber: '03ffeedd', notAfter: '2026-01-15T00:00:00.000Z' },
      store: { type: 'file', ref: '.certkeeper/example-com', version: '2' },
      ...overrides,
    },
  };
}
