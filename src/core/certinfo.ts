import { createPrivateKey, generateKeyPair as generateKeyPairCb, X509Certificate as NodeX509 } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyType } from '../ports/store.js';

const generateKeyPair = promisify(generateKeyPairCb);

export interface CertificateInfo {
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  issuer: string;
  subject: string;
  /** DNS names from the subjectAltName extension, lowercased. */
  dnsNames: string[];
  keyType: KeyType | 'unknown';
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemChain(pem: string): string[] {
  return (pem.match(PEM_BLOCK) ?? []).map((b) => `${b}\n`);
}

function keyTypeOf(cert: NodeX509): KeyType | 'unknown' {
  const details = cert.publicKey.asymmetricKeyDetails;
  if (cert.publicKey.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ec-p256';
    if (details?.namedCurve === 'secp384r1') return 'ec-p384';
  }
  if (cert.publicKey.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength;
    if (bits === 2048) return 'rsa-2048';
    if (bits === 3072) return 'rsa-3072';
    if (bits === 4096) return 'rsa-4096';
  }
  return 'unknown';
}

/**
 * Node's X.509 parser names a DN one attribute per line, most significant first (C, O, CN); join
 * it the way RFC 4514 and AWS print it (CN first).
 */
function formatDn(dn: string | undefined): string {
  // An empty subject (as the tlsserver and shortlived profiles issue) comes back undefined.
  return (dn ?? '').split('\n').filter(Boolean).reverse().join(', ');
}

/**
 * Parses one PEM certificate (the first block of `pem`). Throws on malformed input. Node's native
 * parser, not @peculiar/x509: the latter (with its DI container and ASN.1 schemas) costs ~125 ms
 * to load, on every run, for fields Node reads natively.
 */
export function parseCertificate(pem: string): CertificateInfo {
  const first = splitPemChain(pem)[0];
  if (!first) throw new Error('no PEM certificate found');
  const cert = new NodeX509(first);
  const dnsNames = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4).toLowerCase());
  return {
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    issuer: formatDn(cert.issuer),
    subject: formatDn(cert.subject),
    dnsNames,
    keyType: keyTypeOf(cert),
  };
}

/** A new private key of the configured type, PKCS#8 PEM. */
export async function generatePrivateKey(keyType: KeyType): Promise<string> {
  const pair =
    keyType === 'ec-p256' || keyType === 'ec-p384'
      ? await generateKeyPair('ec', {
          namedCurve: keyType === 'ec-p256' ? 'P-256' : 'P-384',
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        })
      : await generateKeyPair('rsa', {
          modulusLength: Number(keyType.slice(4)),
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        });
  return pair.privateKey as unknown as string;
}

export interface VerifiedBundle {
  certificate: string;
  chain: string;
  fullchain: string;
  info: CertificateInfo;
}

/**
 * Checks what the CA returned before anything is stored: the leaf matches our key, names exactly
 * the requested domains, is currently valid, and each certificate is signed by the next one.
 * Returns the problem as text, or the split bundle.
 */
export function verifyIssuedBundle(
  fullchainPem: string,
  privateKeyPem: string,
  domains: string[],
  now: Date,
): { ok: true; bundle: VerifiedBundle } | { ok: false; problem: string } {
  const blocks = splitPemChain(fullchainPem);
  if (blocks.length === 0) return { ok: false, problem: 'the CA returned no certificate' };
  const leafPem = blocks[0] as string;
  let leaf: NodeX509;
  try {
    leaf = new NodeX509(leafPem);
  } catch (error) {
    return { ok: false, problem: `the CA returned an unparsable certificate: ${(error as Error).message}` };
  }
  if (!leaf.checkPrivateKey(createPrivateKey(privateKeyPem))) {
    return { ok: false, problem: 'the issued certificate does not match the private key' };
  }
  const info = parseCertificate(leafPem);
  const want = [...new Set(domains)].sort();
  const got = [...new Set(info.dnsNames)].sort();
  if (want.join(',') !== got.join(',')) {
    return { ok: false, problem: `the issued certificate names ${got.join(', ')}, expected ${want.join(', ')}` };
  }
  if (info.notAfter <= now) return { ok: false, problem: 'the issued certificate is already expired' };
  for (let i = 0; i + 1 < blocks.length; i++) {
    const child = new NodeX509(blocks[i] as string);
    const parent = new NodeX509(blocks[i + 1] as string);
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      return { ok: false, problem: `chain certificate ${i + 1} does not sign certificate ${i}` };
    }
  }
  const chain = blocks.slice(1).join('');
  return { ok: true, bundle: { certificate: leafPem, chain, fullchain: leafPem + chain, info } };
}
