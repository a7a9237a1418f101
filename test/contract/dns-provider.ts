import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DnsProvider, TxtRecord } from '../../src/ports/dns.js';

/**
 * The contract every DnsProvider passes (STYLE habit 6, src/ports/dns.ts). Call it inside a test
 * file; it adds a `describe` block.
 *
 * - `makeProvider` is called lazily in each test (after the file's beforeAll has started servers);
 *   returning the same provider every time is fine.
 * - `readValues(name)` reads the TXT values at `name` from the provider's backend (API or DNS),
 *   in any order; [] when there is no record.
 * - `options.domain`: every record name is `_acme-challenge.<unique label>.<domain>`, so tests
 *   never see each other's values even on a shared server. The backend must accept that domain
 *   (e.g. a Route 53 hosted zone of that name).
 */
export interface DnsContractOptions {
  domain?: string;
}

/** A DNS-01 value: base64url of a SHA-256, 43 characters, like the real ones. */
export function challengeValue(): string {
  return randomBytes(32).toString('base64url');
}

let seq = 0;

export function dnsProviderContract(
  name: string,
  makeProvider: () => DnsProvider | Promise<DnsProvider>,
  readValues: (recordName: string) => Promise<string[]>,
  options: DnsContractOptions = {},
): void {
  const domain = options.domain ?? 'contract.example.com';
  const freshName = () => {
    seq++;
    return `_acme-challenge.c${process.pid}x${seq}x${randomBytes(3).toString('hex')}.${domain}`;
  };
  const sorted = (values: string[]) => [...values].sort();
  const rec = (recordName: string, value: string): TxtRecord => ({ name: recordName, value });

  describe(`DnsProvider contract: ${name}`, () => {
    it('present twice on one name keeps both values', async () => {
      const p = await makeProvider();
      const n = freshName();
      const [a, b] = [challengeValue(), challengeValue()];
      await p.present([rec(n, a)]);
      await p.present([rec(n, b)]);
      expect(sorted(await readValues(n))).toEqual(sorted([a, b]));
      await p.cleanup([rec(n, a), rec(n, b)]);
      expect(await readValues(n)).toEqual([]);
    });

    it('presents the apex and wildcard values in one call at one name', async () => {
      const p = await makeProvider();
      const n = freshName();
      const [apex, wildcard] = [challengeValue(), challengeValue()];
      await p.present([rec(n, apex), rec(n, wildcard)]);
      expect(sorted(await readValues(n))).toEqual(sorted([apex, wildcard]));
      await p.cleanup([rec(n, apex), rec(n, wildcard)]);
      expect(await readValues(n)).toEqual([]);
    });

    it('cleanup removes only its own values', async () => {
      const p = await makeProvider();
      const n = freshName();
      const [mine, theirs] = [challengeValue(), challengeValue()];
      await p.present([rec(n, theirs)]);
      await p.present([rec(n, mine)]);
      await p.cleanup([rec(n, mine)]);
      expect(await readValues(n)).toEqual([theirs]);
      await p.cleanup([rec(n, theirs)]);
      expect(await readValues(n)).toEqual([]);
    });

    it('cleanup of a value that is already gone is not an error', async () => {
      const p = await makeProvider();
      const n = freshName();
      await expect(p.cleanup([rec(n, challengeValue())])).resolves.toBeUndefined();
      const other = challengeValue();
      await p.present([rec(n, other)]);
      await expect(p.cleanup([rec(n, challengeValue())])).resolves.toBeUndefined();
      expect(await readValues(n)).toEqual([other]);
      await p.cleanup([rec(n, other)]);
      await expect(p.cleanup([rec(n, other)])).resolves.toBeUndefined();
      expect(await readValues(n)).toEqual([]);
    });

    it('concurrent presents on one name keep every value', async () => {
      const p = await makeProvider();
      const n = freshName();
      // Four: challtestsrv's UDP answer overflows at five values (FACTS), which is its limit, not ours.
      const values = [challengeValue(), challengeValue(), challengeValue(), challengeValue()];
      await Promise.all(values.map((v) => p.present([rec(n, v)])));
      expect(sorted(await readValues(n))).toEqual(sorted(values));
      await Promise.all(values.map((v) => p.cleanup([rec(n, v)])));
      expect(await readValues(n)).toEqual([]);
    });

    it('a present and a cleanup racing on one name leave exactly the presented value', async () => {
      const p = await makeProvider();
      const n = freshName();
      const [old, next] = [challengeValue(), challengeValue()];
      await p.present([rec(n, old)]);
      await Promise.all([p.cleanup([rec(n, old)]), p.present([rec(n, next)])]);
      expect(await readValues(n)).toEqual([next]);
      await p.cleanup([rec(n, next)]);
    });

    it('one call may span several names', async () => {
      const p = await makeProvider();
      const [n1, n2] = [freshName(), freshName()];
      const [v1, v2, v3] = [challengeValue(), challengeValue(), challengeValue()];
      await p.present([rec(n1, v1), rec(n2, v2), rec(n2, v3)]);
      expect(await readValues(n1)).toEqual([v1]);
      expect(sorted(await readValues(n2))).toEqual(sorted([v2, v3]));
      await p.cleanup([rec(n1, v1), rec(n2, v2)]);
      expect(await readValues(n1)).toEqual([]);
      expect(await readValues(n2)).toEqual([v3]);
      await p.cleanup([rec(n2, v3)]);
    });
  });
}
