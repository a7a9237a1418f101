import { describe, expect, it } from 'vitest';
import {
  formatShard,
  inShard,
  MAX_SHARDS,
  parseShard,
  parseShardCount,
  shardOf,
  shardsOf,
} from '../../src/core/shard.js';
import { ConfigError } from '../../src/ports/errors.js';

/** Ids shaped like real ones: hostnames turned into ids, numbered, mixed. */
function ids(n: number, seed = 1): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(i % 3 === 0 ? `api-${i}` : i % 3 === 1 ? `www.shop${x % 997}.example-com` : `svc_${x.toString(36)}`);
  }
  return [...new Set(out)];
}

describe('parseShard', () => {
  it('reads i/N, 1-based, and formats back', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard(' 4 / 4 ')).toEqual({ index: 4, count: 4 });
    expect(parseShard('256/256')).toEqual({ index: 256, count: 256 });
    expect(formatShard(parseShard('3/7'))).toBe('3/7');
  });

  it.each([
    ['0/4', 'i must be between 1 and N'],
    ['5/4', 'i must be between 1 and N'],
    ['1/0', 'N must be between 1 and 256'],
    ['1/257', 'N must be between 1 and 256'],
    ['1.5/4', 'must be "i/N"'],
    ['-1/4', 'must be "i/N"'],
    ['1/4/2', 'must be "i/N"'],
    ['a/b', 'must be "i/N"'],
    ['', 'must be "i/N"'],
    ['3', 'must be "i/N"'],
  ])('rejects %j as a usage error naming the input', (text, message) => {
    let error: unknown;
    try {
      parseShard(text, 'input shard');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.path).toBe('input shard');
    expect((error as ConfigError).issues[0]?.message).toContain(message);
  });

  it('parseShardCount takes 1..256 only', () => {
    expect(parseShardCount('8')).toBe(8);
    for (const bad of ['0', '257', '2.5', 'x', '']) expect(() => parseShardCount(bad)).toThrow(ConfigError);
  });
});

describe('shardOf', () => {
  const fleet = ids(5000);

  it('puts every id in exactly one shard (disjoint and complete)', () => {
    // Every shard index of every count asked about every id: 60 ids × 663 indices.
    const sample = fleet.slice(0, 60);
    for (const count of [1, 2, 3, 7, 8, 31, 100, MAX_SHARDS - 1, MAX_SHARDS]) {
      for (const id of sample) {
        const holders = [];
        for (let index = 1; index <= count; index++) if (inShard(id, { index, count })) holders.push(index);
        expect(holders, `${id} in ${count} shards`).toHaveLength(1);
        expect(holders[0]).toBe(shardOf(id, count));
      }
    }
  });

  it('is stable: a pure function of the id, the same in another process', async () => {
    const { execFileSync } = await import('node:child_process');
    const { createHash } = await import('node:crypto');
    // Recomputed from the definition (SHA-256, first 32 bits big-endian, mod N, +1) in a fresh
    // process: a change of algorithm would move every certificate to another runner.
    const script = `const {createHash}=require('node:crypto');const ids=JSON.parse(process.argv[1]);console.log(JSON.stringify(ids.map(i=>createHash('sha256').update(i).digest().readUInt32BE(0)%13+1)))`;
    const sample = fleet.slice(0, 200);
    const other = JSON.parse(
      execFileSync(process.execPath, ['-e', script, JSON.stringify(sample)], { encoding: 'utf8' }),
    );
    expect(sample.map((id) => shardOf(id, 13))).toEqual(other);
    // Known values, so the partition is pinned across releases too.
    expect([shardOf('example-com', 8), shardOf('api', 8), shardOf('www-example-org', 256)]).toEqual(
      ['example-com', 'api', 'www-example-org'].map(
        (id, k) => (createHash('sha256').update(id).digest().readUInt32BE(0) % [8, 8, 256][k]!) + 1,
      ),
    );
    // Independent of which other ids exist.
    expect(shardOf('example-com', 8)).toBe(
      shardsOf(['zzz', 'example-com'], 8)
        .find((s) => s.ids.includes('example-com'))
        ?.shard.split('/')
        .map(Number)[0],
    );
  });

  it.each([2, 8, 16, 64, 256])('spreads %i shards roughly evenly', (count) => {
    const sizes = new Array(count).fill(0);
    for (const id of fleet) sizes[shardOf(id, count) - 1]++;
    const mean = fleet.length / count;
    // Binomial: σ = sqrt(n p (1-p)); 5σ keeps the test deterministic for this fleet while still
    // failing a hash that lumps ids together (e.g. one that looks only at a prefix).
    const sigma = Math.sqrt(fleet.length * (1 / count) * (1 - 1 / count));
    for (const size of sizes) expect(Math.abs(size - mean)).toBeLessThan(5 * sigma + 1);
    const chi2 = sizes.reduce((s, n) => s + (n - mean) ** 2 / mean, 0);
    // χ² with count-1 degrees of freedom: mean count-1, σ = sqrt(2(count-1)).
    expect(chi2).toBeLessThan(count - 1 + 6 * Math.sqrt(2 * (count - 1)));
  });

  it('shardsOf lists only the shards that hold ids, ascending, with their ids', () => {
    const some = fleet.slice(0, 5);
    const shards = shardsOf(some, 64);
    expect(shards.flatMap((s) => s.ids).sort()).toEqual([...some].sort());
    const indexes = shards.map((s) => Number(s.shard.split('/')[0]));
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    for (const s of shards) for (const id of s.ids) expect(inShard(id, parseShard(s.shard))).toBe(true);
    expect(shardsOf([], 8)).toEqual([]);
  });
});
