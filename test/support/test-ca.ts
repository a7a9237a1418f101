import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * A small CA for tests that need certificates with chosen lifetimes and keys (expired ones, RSA
 * ones, 500 of them), chained root → intermediate → leaf the way an ACME CA issues them.
 */

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

type KeyPair = webcrypto.CryptoKeyPair;

const pem = (der: ArrayBuffer, label: string) => `${x509.PemConverter.encode(der, label)}\n`;

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(12));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return Buffer.from(bytes).toString('hex');
}

export interface Issued {
  certPem: string;
  /** The intermediate, as a CA's chain file holds it. */
  chainPem: string;
  /** PKCS#8. */
  keyPem: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export interface TestCa {
  rootPem: string;
  intermediatePem: string;
  issue(
    names: string[],
    opts?: {
      notBefore?: Date;
      notAfter?: Date;
      days?: number;
      key?: 'ec-p256' | 'ec-p384' | 'rsa-2048';
      /** One key for every certificate that asks for it: fleets of hundreds issue in a blink. */
      sharedKey?: boolean;
    },
  ): Promise<Issued>;
}

async function keys(kind: 'ec-p256' | 'ec-p384' | 'rsa-2048'): Promise<KeyPair> {
  const alg =
    kind === 'rsa-2048'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
      : kind === 'ec-p384'
        ? { name: 'ECDSA', namedCurve: 'P-384' }
        : { name: 'ECDSA', namedCurve: 'P-256' };
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
}

export async function createTestCa(name = 'certkeeper test'): Promise<TestCa> {
  const now = Date.now();
  const rootKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name} root`,
    notBefore: new Date(now - 400 * DAY),
    notAfter: new Date(now + 3650 * DAY),
    signingAlgorithm: EC,
    keys: rootKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const interKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
  const inter = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name} intermediate`,
    issuer: root.subject,
    notBefore: new Date(now - 400 * DAY),
    notAfter: new Date(now + 3000 * DAY),
    signingAlgorithm: EC,
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const intermediatePem = `${inter.toString('pem')}\n`;
  const aki = await x509.AuthorityKeyIdentifierExtension.create(interKeys.publicKey);
  let shared: Promise<KeyPair> | undefined;
  return {
    rootPem: `${root.toString('pem')}\n`,
    intermediatePem,
    async issue(names, opts = {}) {
      const notBefore = opts.notBefore ?? new Date(Date.now() - DAY);
      const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.days ?? 90) * DAY);
      if (opts.sharedKey) shared ??= keys('ec-p256');
      const pair = opts.sharedKey && shared ? await shared : await keys(opts.key ?? 'ec-p256');
      const serialNumber = serial();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber,
        subject: names[0]?.startsWith('*') ? '' : `CN=${names[0]}`,
        issuer: inter.subject,
        notBefore,
        notAfter,
        signingAlgorithm: EC,
        publicKey: pair.publicKey,
        signingKey: interKeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
          aki,
        ],
      });
      return {
        certPem: `${cert.toString('pem')}\n`,
        chainPem: intermediatePem,
        keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey), 'PRIVATE KEY'),
        serialNumber,
        notBefore: cert.notBefore,
        notAfter: cert.notAfter,
      };
    },
  };
}

/** The same key as SEC1 (`BEGIN EC PRIVATE KEY`), as lego and `openssl ecparam -genkey` write it. */
export function toSec1(pkcs8Pem: string): string {
  return createPrivateKey(pkcs8Pem).export({ type: 'sec1', format: 'pem' }) as string;
}

/** The same key, passphrase protected (`BEGIN ENCRYPTED PRIVATE KEY`). */
export function encrypted(pkcs8Pem: string, passphrase = 'correct horse'): string {
  return createPrivateKey(pkcs8Pem).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase,
  }) as string;
}
