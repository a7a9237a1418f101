import type { StoredCertificate } from './store.js';

/** An extra copy of a renewed certificate (e.g. ACM for CloudFront/ALB). */
export interface CertificateExporter {
  /** Key in the stored metadata's `exports` map, e.g. `aws-acm`. */
  readonly type: string;
  /**
   * Imports the certificate. `previousRef` is the reference remembered in the stored metadata
   * (e.g. the ACM ARN), so re-imports keep the same resource. Returns the reference to remember.
   */
  export(certificate: StoredCertificate, previousRef: string | undefined, signal?: AbortSignal): Promise<string>;
}
