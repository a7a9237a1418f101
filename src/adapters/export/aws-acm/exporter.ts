import { type ACMClient, ImportCertificateCommand } from '@aws-sdk/client-acm';
import type { Clock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import type { CertificateExporter } from '../../../ports/exporter.js';
import type { Logger } from '../../../ports/logger.js';
import type { StoredCertificate } from '../../../ports/store.js';
import { type AwsClientFactory, defaultAwsClientFactory } from '../../aws/clients.js';
import { awsErrorName, awsHint, describeAwsError } from '../../aws/errors.js';
import type { AcmExportConfig } from './descriptor.js';

/**
 * Export `aws-acm` (PRODUCT §2): imports the renewed certificate into ACM, re-importing into the
 * same ARN each time so the ALB listeners and CloudFront distributions that use it pick up the new
 * certificate without being touched. (CloudFront only uses certificates in us-east-1.)
 */

export interface AcmDeps {
  logger: Logger;
  clock: Clock;
  /** A ready client (tests). Else one from `clients` for the target region and role. */
  client?: ACMClient;
  clients?: AwsClientFactory;
}

/** `arn:aws:acm:<region>:<account>:certificate/<id>` → region. */
function regionOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}

export function createAcmExporter(config: AcmExportConfig, deps: AcmDeps): CertificateExporter {
  const { logger } = deps;
  return {
    type: 'aws-acm',
    async export(certificate: StoredCertificate, previousRef: string | undefined, signal?: AbortSignal) {
      // The configured ARN wins; the remembered one is used while it is in the configured region
      // (a changed `region` means a new import there, not a re-import elsewhere).
      let target = config.certificateArn ?? previousRef;
      if (!config.certificateArn && previousRef && config.region && regionOf(previousRef) !== config.region) {
        logger.info(`acm: region changed to ${config.region}; importing anew instead of into ${previousRef}`);
        target = undefined;
      }
      // An ARN can only be re-imported in its own region, whatever `region` says.
      const region =
        (config.certificateArn ? regionOf(config.certificateArn) : undefined) ?? config.region ?? regionOf(target);
      const client =
        deps.client ??
        (deps.clients ?? defaultAwsClientFactory()).acm({
          region,
          roleArn: config.roleArn,
          externalId: config.externalId,
        });
      const material = {
        Certificate: Buffer.from(certificate.certificate),
        PrivateKey: Buffer.from(certificate.privateKey),
        ...(certificate.chain.trim() ? { CertificateChain: Buffer.from(certificate.chain) } : {}),
      };
      const fail = (what: string, error: unknown) =>
        new StoreError(`acm: ${what}: ${describeAwsError(error)}`, {
          cause: error,
          ...(awsHint(error) ? { hint: awsHint(error) as string } : {}),
        });

      if (target) {
        try {
          const out = await client.send(new ImportCertificateCommand({ ...material, CertificateArn: target }), {
            abortSignal: signal,
          });
          logger.info(`acm: re-imported ${certificate.id} into ${out.CertificateArn ?? target}`, {
            serialNumber: certificate.serialNumber,
          });
          return out.CertificateArn ?? target;
        } catch (error) {
          // A remembered ARN someone deleted: import a new one. A configured ARN must exist.
          if (awsErrorName(error) !== 'ResourceNotFoundException' || config.certificateArn) {
            throw fail(`cannot re-import into ${target}`, error);
          }
          logger.warn(`acm: ${target} no longer exists; importing ${certificate.id} as a new certificate`);
        }
      }
      try {
        // Tags only on the first import: ACM rejects tags on a re-import.
        const out = await client.send(
          new ImportCertificateCommand({ ...material, Tags: [{ Key: 'certkeeper:id', Value: certificate.id }] }),
          { abortSignal: signal },
        );
        if (!out.CertificateArn) throw new Error('ImportCertificate returned no ARN');
        logger.info(`acm: imported ${certificate.id} as ${out.CertificateArn}`, {
          serialNumber: certificate.serialNumber,
        });
        return out.CertificateArn;
      } catch (error) {
        throw fail(`cannot import ${certificate.id}${region ? ` in ${region}` : ''}`, error);
      }
    },
  };
}
