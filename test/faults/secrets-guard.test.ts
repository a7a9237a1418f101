import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { captureLog } from '../support/certkeeper.js';
import {
  allowSecretsInThisTest,
  assertNoSecretHits,
  findSecrets,
  registerSecret,
  scanForSecrets,
  scanningWrite,
  takeSecretHits,
} from '../support/secrets-guard.js';

/**
 * The suite-wide secrets guard (test/support/secrets-guard.ts, a setupFiles entry) catches key
 * material. Every check here looks at the scanner's answer; nothing prints a key, and every test
 * that feeds one to a recording path opts out first, so the guard's own afterEach stays green.
 */

function pkcs8(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

const bodyLines = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));

describe('secrets guard', () => {
  it('finds a PKCS#8 PEM key, and a traditional EC/RSA header, in any text', () => {
    const key = pkcs8();
    expect(findSecrets(`config ok\n${key}\nbye`).map((h) => h.kind)).toContain('pem-marker');
    expect(findSecrets('-----BEGIN EC PRIVATE KEY-----')).toHaveLength(1);
    expect(findSecrets('-----BEGIN RSA PRIVATE KEY-----')).toHaveLength(1);
    expect(findSecrets('-----BEGIN ENCRYPTED PRIVATE KEY-----')).toHaveLength(1);
    // Certificates and public keys are fine.
    expect(findSecrets('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toEqual([]);
    expect(findSecrets('-----BEGIN PUBLIC KEY-----')).toEqual([]);
  });

  it('finds a registered key line without any PEM marker, and never repeats it in the report', () => {
    const key = pkcs8();
    const line = bodyLines(key)[1] as string;
    expect(findSecrets(`leaked: ${line}`)).toEqual([]);
    registerSecret(key);
    const found = findSecrets(`error: something failed near ${line} (oops)`);
    expect(found).toHaveLength(1);
    expect(found[0]?.kind).toBe('registered-key-line');
    expect(found[0]?.excerpt).not.toContain(line);
    expect(found[0]?.excerpt).toContain('[REDACTED');
  });

  it('records a leak against the running test and fails it (shown on a copy, with recording off)', () => {
    allowSecretsInThisTest();
    const key = pkcs8();
    const hits = scanForSecrets('unit', `the report: ${JSON.stringify({ privateKey: key })}`);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ where: 'unit', kind: 'pem-marker' });
    expect(hits[0]?.test).toContain('records a leak against the running test');
    let message = '';
    try {
      assertNoSecretHits(hits);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/secrets guard: private key material was printed/);
    expect(message).toContain('in unit (pem-marker)');
    for (const l of bodyLines(key)) expect(message).not.toContain(l);
    expect(() => assertNoSecretHits([])).not.toThrow();
  });

  it('scans what goes through a wrapped stream write and through captureLog', () => {
    allowSecretsInThisTest();
    const key = pkcs8();
    registerSecret(key);
    const written: unknown[] = [];
    const write = scanningWrite('fake stdout', ((chunk: unknown) => written.push(chunk) > 0) as never);
    // The wrapper passes everything on; the scan itself is checked through scanForSecrets' answer.
    expect(write(`line ${bodyLines(key)[0]}\n`)).toBe(true);
    expect(written).toHaveLength(1);
    expect(scanForSecrets('fake stdout', written[0])).toHaveLength(1);

    const log = captureLog();
    log.logger.info('renewed', { detail: bodyLines(key)[2] });
    expect(scanForSecrets('captured log', log.lines.join('\n'))[0]?.kind).toBe('registered-key-line');
  });

  it('withholds a leaking chunk from the stream and records the hit that fails the test', () => {
    const key = pkcs8();
    const written: unknown[] = [];
    const write = scanningWrite('fake stderr', ((chunk: unknown) => written.push(chunk) > 0) as never);
    write('all good\n');
    write(`debug dump: ${key}`);
    expect(written[0]).toBe('all good\n');
    expect(written[1]).toMatch(/^\[secrets guard: \d+ characters withheld, they hold private key material\]/);
    for (const l of bodyLines(key)) expect(String(written[1])).not.toContain(l);
    // What afterEach would find and throw for: taken here, so this test itself stays green.
    const hits = takeSecretHits();
    expect(hits.map((h) => [h.where, h.kind])).toEqual([['fake stderr', 'pem-marker']]);
    expect(hits[0]?.test).toBe(
      'secrets guard > withholds a leaking chunk from the stream and records the hit that fails the test',
    );
    expect(() => assertNoSecretHits(hits)).toThrow(/\[secrets guard > withholds a leaking chunk.*\] in fake stderr/);
    expect(takeSecretHits()).toEqual([]);
  });

  it('lets clean output through', () => {
    expect(scanForSecrets('unit', 'renewed example.com, serial 0a1b2c, valid until 2026-12-01')).toEqual([]);
    expect(scanForSecrets('unit', { results: [{ id: 'x', status: 'renewed' }] })).toEqual([]);
  });
});
