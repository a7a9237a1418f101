// @peculiar/x509 2.x uses tsyringe, which throws at import time unless a Reflect metadata polyfill
// is already loaded; this side-effect import must stay above the x509 import.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

export interface TlsCertPem {
  /** Self-signed certificate; clients trust it directly (e.g. node:https `ca`, NODE_EXTRA_CA_CERTS). */
  certPem: string;
  /** PKCS#8 private key. */
  keyPem: string;
}

export interface TlsCertOptions {
  /** Default 7 days: these certificates live only as long as a test run or a demo. */
  validityDays?: number;
  /** Subject common name; defaults to the first name. */
  commonName?: string;
}

/**
 * A self-signed server certificate for local TLS listeners (Pebble's HTTPS ports, fake webhook or
 * endpoint servers in tests). Names that parse as IP addresses become IP SANs, the rest DNS SANs,
 * because clients match 127.0.0.1 only against an IP SAN.
 */
export async function createSelfSignedCert(
  names: readonly string[] = ['localhost', '127.0.0.1'],
  opts: TlsCertOptions = {},
): Promise<TlsCertPem> {
  if (names.length === 0) throw new Error('createSelfSignedCert needs at least one DNS name or IP address');
  // P-256 keeps generation in the low milliseconds; Go (Pebble) and OpenSSL (Node) both accept it.
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cn = (opts.commonName ?? names[0] ?? 'localhost').replace(/[,=+<>#;"\\]/g, '_');
  // x509 defaults to globalThis.crypto, which is Node's webcrypto on Node >= 19.
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: `CN=${cn}`,
    // Backdated so a client with a slightly slow clock does not see a not-yet-valid certificate.
    notBefore: new Date(now - 60 * 60_000),
    notAfter: new Date(now + (opts.validityDays ?? 7) * 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      // CA:true lets this one certificate act as its own trust anchor in every TLS stack we use;
      // some verifiers refuse a CA:false certificate in the trust store.
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: `${cert.toString('pem')}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`,
  };
}

function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  // A positive DER INTEGER: clear the top bit so the serial is not read as negative.
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}
