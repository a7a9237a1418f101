import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../src/core/events.js';
import { HookError } from '../../src/ports/errors.js';
import { assertNoKeyMaterial } from '../../src/ports/hooks.js';
import { fakeClock } from '../support/clock.js';
import { sampleEvent } from '../support/fixtures.js';

describe('buildEvent', () => {
  it('gives the PRODUCT event shape: type, uuid, ISO timestamp from the clock, data', () => {
    const clock = fakeClock(new Date('2026-03-01T12:00:00Z'));
    const data = sampleEvent().data;
    expect(buildEvent('certificate.renewed', data, { clock, randomUUID: () => 'fixed-id' })).toEqual({
      type: 'certificate.renewed',
      id: 'fixed-id',
      timestamp: '2026-03-01T12:00:00.000Z',
      data,
    });
  });

  it('uses a fresh random uuid per event by default', () => {
    const clock = fakeClock(new Date());
    const a = buildEvent('certificate.expiring', { certificate: 'x', domains: ['x.example'] }, { clock });
    const b = buildEvent('certificate.expiring', { certificate: 'x', domains: ['x.example'] }, { clock });
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
  });
});

describe('assertNoKeyMaterial', () => {
  it('passes an ordinary event', () => {
    expect(() => assertNoKeyMaterial(sampleEvent())).not.toThrow();
  });

  it.each([
    ['a nested string', { data: { error: { message: 'x -----BEGIN EC PRIVATE KEY----- y' } } }, 'data.error.message'],
    ['an array element', { data: { domains: ['a.example', '-----BEGIN PRIVATE KEY-----'] } }, 'data.domains[1]'],
    ['a key name', { data: { 'PRIVATE KEY': 1 } }, 'data.PRIVATE KEY'],
    ['bytes', { blob: Buffer.from('-----BEGIN RSA PRIVATE KEY-----') }, 'blob'],
    ['lower case', { note: 'begin private key' }, 'note'],
  ])('throws for key material in %s, naming where but not the value', (_what, value, where) => {
    let error: unknown;
    try {
      assertNoKeyMaterial(value, 'webhook');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HookError);
    expect((error as HookError).message).toBe(`webhook: refusing to send private key material (found at ${where})`);
  });

  it('copes with cycles', () => {
    const a: Record<string, unknown> = { x: 'ok' };
    a.self = a;
    expect(() => assertNoKeyMaterial(a)).not.toThrow();
  });
});
