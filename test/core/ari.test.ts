import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import {
  ariCertId,
  ariDecision,
  ariFetchDue,
  ariNextFetch,
  drawRenewalTime,
  nextAriState,
  parseRenewalInfo,
} from '../../src/core/ari.js';
import { parseCertificate } from '../../src/core/certinfo.js';
import type { AriState } from '../../src/ports/store.js';
import { independentCertId } from '../support/ari-shim.js';

/**
 * RFC 9773 §4.1's example as a certificate: AKI keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:
 * 7B:A0:AE:2C:DE:01:C8:D4 and serial 0x87654321 (DER 00 87 65 43 21), made with `openssl req -x509
 * -set_serial 0x87654321` and `subjectKeyIdentifier`/`authorityKeyIdentifier=keyid:always`.
 */
const RFC_EXAMPLE = `-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIFAIdlQyEwCgYIKoZIzj0EAwIwGzEZMBcGA1UEAwwQUkZD
IDk3NzMgZXhhbXBsZTAgFw0yNjEyMDEyMjA0MzRaGA8yMTI2MTEwNzIyMDQzNFow
GzEZMBcGA1UEAwwQUkZDIDk3NzMgZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49
AwEHA0IABHlwslisuxCAfaBFbWzI+IrEe3gcw3Kk5Efi0Ye198kbfKfTATUyZXwC
8aAJGSq7tMukb/QsGX3Fm+0f4lmSv+WjWjBYMB0GA1UdDgQWBBRpiFtrh0ZAQeGz
e4R7oK4s3gHI1DAfBgNVHSMEGDAWgBRpiFtrh0ZAQeGze4R7oK4s3gHI1DAWBgNV
HREEDzANggtleGFtcGxlLmNvbTAKBggqhkjOPQQDAgNJADBGAiEA6MHZdPEO5A3H
7awn4QAIFAB0B0kff/BZKgsrqpDJb4YCIQCYRwTFZEMh1XUs1YH3nY3uICWQSdne
RaGe2CaliaW05A==
-----END CERTIFICATE-----
`;

/** A version 1 certificate (no extensions, so no AKI), serial 1: `openssl x509 -req` without extensions. */
const V1_NO_EXTENSIONS = `-----BEGIN CERTIFICATE-----
MIIBAzCBqgIBATAKBggqhkjOPQQDAjANMQswCQYDVQQDDAJ2MTAgFw0yNjEyMDEy
MjEyMjFaGA8yMTI2MTEwNzIyMTIyMVowDTELMAkGA1UEAwwCdjEwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAAQi7syQ7GCrs6VyeZPWcO/oQ01JnfGDIkReIopJrSdo
5K7cDZT/aNxRtPgDHdDhIdBzfHt09o1CeScMJ0Wk9ha+MAoGCCqGSM49BAMCA0gA
MEUCIQCEZxmGr3bwmMpXJujXBpkYCmPNOuPzpVu+ZfxoCwqM1AIgRHPrNwU1S9WZ
MbzsDBFNCKAx/2DyyKLyl8A9HQPryQo=
-----END CERTIFICATE-----
`;

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A leaf signed by a fresh CA, with the CA's key id as AKI; `subject` empty gives a CN-less leaf. */
async function issuedLeaf(serialNumber: string, subject = 'CN=leaf.example.com'): Promise<string> {
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leafKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: 'CN=Test CA',
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-07T16:00:00Z'),
    signingAlgorithm: alg,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'leaf.example.com' }], !subject),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return leaf.toString('pem');
}

describe('ariCertId (RFC 9773 §4.1)', () => {
  it("reproduces the RFC's example, leading 0x00 of the serial included", () => {
    expect(ariCertId(RFC_EXAMPLE)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it.each([
    ['high bit set: DER adds 00', 'f1a2b3c4d5e6f708', 'APGis8TV5vcI'],
    ['high bit clear: no 00', '71a2b3c4d5e6f708', 'caKzxNXm9wg'],
    ['a one-byte serial', '05', 'BQ'],
  ])('encodes the serial as its DER bytes (%s)', async (_, serial, encoded) => {
    const pem = await issuedLeaf(serial);
    const id = ariCertId(pem) as string;
    expect(id.split('.')[1]).toBe(encoded);
    // The same as a second implementation on @peculiar/x509's parser.
    expect(id).toBe(independentCertId(pem));
  });

  it('works for a certificate without a subject (tlsserver, shortlived)', async () => {
    const pem = await issuedLeaf('6a', '');
    expect(ariCertId(pem)).toBe(independentCertId(pem));
    // …and so does the rest of certkeeper's parsing (Node gives no subject string for it).
    const info = parseCertificate(pem);
    expect(info.subject).toBe('');
    expect(info.dnsNames).toEqual(['leaf.example.com']);
  });

  it('is undefined without an authority key identifier (v1 certificates, self-signed ones)', () => {
    expect(ariCertId(V1_NO_EXTENSIONS)).toBeUndefined();
  });

  it('accepts PEM, DER and an X509Certificate alike', async () => {
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(RFC_EXAMPLE);
    expect(ariCertId(cert.raw)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    expect(ariCertId(cert)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('throws on what is not a certificate', () => {
    expect(() => ariCertId('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow();
  });
});

describe('Retry-After → next fetch', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const hours = (d: Date) => (d.getTime() - now.getTime()) / 3_600_000;
  it.each([
    [undefined, 6],
    ['', 6],
    ['soon', 6],
    ['21600', 6],
    ['7200', 2],
    ['60', 1],
    ['0', 1],
    [String(30 * 86_400), 168],
    ['Mon, 01 Jun 2026 03:00:00 GMT', 3],
    ['Sun, 31 May 2026 00:00:00 GMT', 1],
    ['Sat, 01 Aug 2026 00:00:00 GMT', 168],
  ])('%s → %s h', (header, expected) => {
    expect(hours(ariNextFetch(header, now))).toBe(expected);
  });
});

describe('parseRenewalInfo', () => {
  it('reads the window and an http(s) explanationURL', () => {
    const r = parseRenewalInfo({
      suggestedWindow: { start: '2026-06-01T00:00:00Z', end: '2026-06-03T00:00:00Z' },
      explanationURL: 'https://community.example/incident?id=1',
    });
    expect(r).toEqual({
      ok: true,
      window: {
        start: new Date('2026-06-01T00:00:00Z'),
        end: new Date('2026-06-03T00:00:00Z'),
        explanationURL: 'https://community.example/incident?id=1',
      },
    });
  });

  it('drops an explanationURL that is not http(s)', () => {
    const r = parseRenewalInfo({
      suggestedWindow: { start: '2026-06-01T00:00:00Z', end: '2026-06-03T00:00:00Z' },
      explanationURL: 'javascript:alert(1)',
    });
    expect(r.ok && r.window.explanationURL).toBe(undefined);
  });

  it.each([
    [null, 'not a JSON object'],
    [[], 'not a JSON object'],
    [{}, 'no suggestedWindow'],
    [{ suggestedWindow: { start: 'tomorrow', end: '2026-06-03T00:00:00Z' } }, 'not RFC 3339'],
    [{ suggestedWindow: { start: 1, end: 2 } }, 'not RFC 3339'],
    [{ suggestedWindow: { start: '2026-06-03T00:00:00Z', end: '2026-06-01T00:00:00Z' } }, 'before it starts'],
    [{ suggestedWindow: { start: '2026-06-03T00:00:00Z', end: '2026-06-03T00:00:00Z' } }, 'before it starts'],
  ])('refuses %j', (body, problem) => {
    const r = parseRenewalInfo(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toContain(problem);
  });
});

describe('the selected time and the decision', () => {
  const window = { start: new Date('2026-06-01T00:00:00Z'), end: new Date('2026-06-03T00:00:00Z') };
  const nextFetch = new Date('2026-05-20T06:00:00Z');

  it('draws uniformly in [start, end)', () => {
    expect(drawRenewalTime(window, () => 0)).toEqual(window.start);
    expect(drawRenewalTime(window, () => 0.5)).toEqual(new Date('2026-06-02T00:00:00Z'));
    expect(drawRenewalTime(window, () => 0.999999999).getTime()).toBeLessThan(window.end.getTime());
    expect(drawRenewalTime(window, () => 1).getTime()).toBeLessThan(window.end.getTime());
  });

  it('keeps the drawn time while the window stays, draws again when it moves or the certificate changes', () => {
    const first = nextAriState(undefined, 'a.b', window, nextFetch, () => 0.25);
    expect(first).toEqual({
      certId: 'a.b',
      start: '2026-06-01T00:00:00.000Z',
      end: '2026-06-03T00:00:00.000Z',
      selected: '2026-06-01T12:00:00.000Z',
      nextFetch: '2026-05-20T06:00:00.000Z',
    });
    const later = new Date('2026-05-20T12:00:00Z');
    expect(nextAriState(first, 'a.b', window, later, () => 0.9)).toEqual({ ...first, nextFetch: later.toISOString() });
    const moved = { start: new Date('2026-05-01T00:00:00Z'), end: new Date('2026-05-02T00:00:00Z') };
    expect(nextAriState(first, 'a.b', moved, later, () => 0.5).selected).toBe('2026-05-01T12:00:00.000Z');
    expect(nextAriState(first, 'c.d', window, later, () => 0.5).selected).toBe('2026-06-02T00:00:00.000Z');
  });

  it('fetches again after Retry-After, or for another certificate', () => {
    const state = nextAriState(undefined, 'a.b', window, nextFetch, () => 0);
    expect(ariFetchDue(undefined, 'a.b', new Date('2026-05-01T00:00:00Z'))).toBe(true);
    expect(ariFetchDue(state, 'a.b', new Date('2026-05-20T05:59:59Z'))).toBe(false);
    expect(ariFetchDue(state, 'a.b', nextFetch)).toBe(true);
    expect(ariFetchDue(state, 'x.y', new Date('2026-05-01T00:00:00Z'))).toBe(true);
    expect(ariFetchDue({ ...state, nextFetch: 'garbage' }, 'a.b', new Date('2026-05-01T00:00:00Z'))).toBe(true);
  });

  it('is due at the selected time, at once when the window has passed, never on an invalid window', () => {
    const state: AriState = nextAriState(undefined, 'a.b', window, nextFetch, () => 0.5);
    expect(ariDecision(state, 'a.b', new Date('2026-06-01T23:59:59Z'))).toMatchObject({ due: false });
    expect(ariDecision(state, 'a.b', new Date('2026-06-02T00:00:00Z'))).toMatchObject({
      due: true,
      why: 'selected-time',
    });
    expect(ariDecision(state, 'a.b', new Date('2026-06-03T00:00:00Z'))).toMatchObject({
      due: true,
      why: 'window-passed',
    });
    // A window moved into the past with a time drawn in it: the end has passed, renew now.
    const past = nextAriState(
      state,
      'a.b',
      { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-02T00:00:00Z') },
      nextFetch,
      () => 0.5,
    );
    expect(ariDecision(past, 'a.b', new Date('2026-01-05T00:00:00Z'))).toMatchObject({
      due: true,
      why: 'window-passed',
    });
    expect(ariDecision(state, 'other.id', new Date('2026-06-05T00:00:00Z'))).toBeUndefined();
    expect(ariDecision({ ...state, end: state.start }, 'a.b', new Date('2026-06-05T00:00:00Z'))).toBeUndefined();
    expect(ariDecision(undefined, 'a.b', new Date())).toBeUndefined();
  });
});
