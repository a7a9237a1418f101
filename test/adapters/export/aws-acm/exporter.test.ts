import { X509Certificate } from 'node:crypto';
import {
  ACMClient,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListTagsForCertificateCommand,
} from '@aws-sdk/client-acm';
import { describe, expect, it } from 'vitest';
import type { AcmExportConfig } from '../../../../src/adapters/export/aws-acm/descriptor.js';
import { createAcmExporter } from '../../../../src/adapters/export/aws-acm/exporter.js';
import { StoreError } from '../../../../src/ports/errors.js';
import { useMoto } from '../../../support/aws.js';
import { fakeClock } from '../../../support/clock.js';
import { keyMaterial, makeCertificate } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/logger.js';

const aws = useMoto();
const logger = recordingLogger();

const exporter = (extra: Partial<AcmExportConfig> = {}) =>
  createAcmExporter({ type: 'aws-acm', ...extra }, { logger, clock: fakeClock(), clients: aws.clients });

async function describeCert(arn: string) {
  const region = arn.split(':')[3];
  return (await new ACMClient({ region }).send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate;
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+/, '');
/** AWS shows the serial as colon-separated hex; moto as a decimal number. */
const normalSerial = (s: string | undefined) =>
  (s ?? '').includes(':')
    ? (s ?? '').replace(/:/g, '').toLowerCase().replace(/^0+/, '')
    : BigInt(s ?? '0').toString(16);

describe('ACM exporter against moto', () => {
  it('imports a new certificate with its chain and the certkeeper:id tag', async () => {
    const cert = await makeCertificate('acm-new', ['acm.example.com']);
    const arn = await exporter().export(cert, undefined);
    expect(arn).toMatch(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[\w-]+$/);
    const d = await describeCert(arn);
    expect(d?.Type).toBe('IMPORTED');
    expect(d?.DomainName).toBe('acm.example.com');
    const tags = await new ACMClient({}).send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
    expect(tags.Tags).toEqual([{ Key: 'certkeeper:id', Value: 'acm-new' }]);
    const imports = aws.calls.filter((c) => c.operation === 'ImportCertificate');
    expect(imports.at(-1)?.input.CertificateChain).toBeDefined();
  });

  it('re-imports a renewal into the remembered ARN, without tags', async () => {
    const first = await makeCertificate('acm-re', ['re.example.com']);
    const arn = await exporter().export(first, undefined);
    const second = await makeCertificate('acm-re', ['re.example.com']);
    const again = await exporter().export(second, arn);
    expect(again).toBe(arn);
    expect(normalSerial((await describeCert(arn))?.Serial)).toBe(serialOf(second.certificate));
    const last = aws.calls.filter((c) => c.operation === 'ImportCertificate').at(-1);
    expect(last?.input.CertificateArn).toBe(arn);
    expect(last?.input.Tags).toBeUndefined();
  });

  it('prefers the configured certificateArn over the remembered one', async () => {
    const a = await exporter().export(await makeCertificate('acm-a', ['a.example.com']), undefined);
    const b = await exporter().export(await makeCertificate('acm-b', ['b.example.com']), undefined);
    const renewed = await makeCertificate('acm-b', ['b.example.com']);
    expect(await exporter({ certificateArn: b }).export(renewed, a)).toBe(b);
    expect(normalSerial((await describeCert(b))?.Serial)).toBe(serialOf(renewed.certificate));
  });

  it('imports anew when the remembered ARN was deleted, but fails for a configured one', async () => {
    const cert = await makeCertificate('acm-gone', ['gone.example.com']);
    const arn = await exporter().export(cert, undefined);
    await new ACMClient({}).send(new DeleteCertificateCommand({ CertificateArn: arn }));
    const fresh = await exporter().export(cert, arn);
    expect(fresh).not.toBe(arn);
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('no longer exists'))).toBe(true);

    const err = await exporter({ certificateArn: arn })
      .export(cert, undefined)
      .catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toMatch(/^acm: cannot re-import into arn:aws:acm:.* ResourceNotFoundException/);
    for (const line of keyMaterial(cert)) expect(err.message).not.toContain(line);
  });

  it('imports in the configured region (CloudFront needs us-east-1), and anew when the region changes', async () => {
    const cert = await makeCertificate('acm-region', ['region.example.com']);
    const eu = await exporter({ region: 'eu-west-1' }).export(cert, undefined);
    expect(eu.split(':')[3]).toBe('eu-west-1');
    const us = await exporter({ region: 'us-east-1' }).export(cert, eu);
    expect(us.split(':')[3]).toBe('us-east-1');
    // With no region configured, a re-import goes to the remembered ARN's region.
    expect(await exporter().export(cert, eu)).toBe(eu);
  });

  it('never logs key material', async () => {
    const cert = await makeCertificate('acm-quiet', ['quiet.example.com']);
    await exporter().export(cert, undefined);
    for (const line of keyMaterial(cert)) expect(logger.text()).not.toContain(line);
  });
});
