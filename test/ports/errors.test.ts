import { describe, expect, it } from 'vitest';
import { DnsProviderError, toErrorInfo } from '../../src/ports/errors.js';

describe('toErrorInfo', () => {
  it('reports a programming error as internal, never as network', () => {
    let thrown: unknown;
    try {
      (undefined as unknown as { subject: string }).subject.toLowerCase();
    } catch (error) {
      thrown = error;
    }
    const info = toErrorInfo(thrown);
    expect(info.class).toBe('internal');
    expect(info.message).toMatch(/^internal error: TypeError: /);
    expect(info.hint).toMatch(/bug in certkeeper/);
  });

  it('keeps network for socket-level failures and the class of our own errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toErrorInfo(refused).class).toBe('network');
    expect(toErrorInfo(new DnsProviderError('route53: no zone')).class).toBe('dns-provider');
  });
});
