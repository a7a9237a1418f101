import { createHash } from 'node:crypto';
import { ConfigError } from '../ports/errors.js';

/**
 * `--shard i/N` (PRODUCT §8): shard `i` of `N`, 1-based like jest's and Playwright's `--shard`, so a
 * GitHub matrix `shard: [1, 2, 3]` reads `1/3 … 3/3`. N is at most 256, GitHub's matrix limit.
 */
export interface Shard {
  index: number;
  count: number;
}

export const MAX_SHARDS = 256;

/** `"2/8"` → `{ index: 2, count: 8 }`; anything else is a usage error naming `where`. */
export function parseShard(text: string, where = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const fail = (message: string): never => {
    throw new ConfigError([{ path: where, message }]);
  };
  if (!m) return fail(`must be "i/N" with whole numbers, e.g. "1/4", not "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) fail(`N must be between 1 and ${MAX_SHARDS}, not ${count}`);
  if (index < 1 || index > count) fail(`i must be between 1 and N (${count}), not ${index}`);
  return { index, count };
}

/** `--shards N`: how many shards a plan groups its due certificates into. */
export function parseShardCount(text: string, where = '--shards'): number {
  const count = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(count >= 1 && count <= MAX_SHARDS)) {
    throw new ConfigError([{ path: where, message: `must be a whole number from 1 to ${MAX_SHARDS}, not "${text}"` }]);
  }
  return count;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * The shard (1-based) an id belongs to among `count`. A hash of the id alone, so every runner, on
 * every run and machine, puts a certificate in the same shard, whatever else the config holds;
 * SHA-256's first 32 bits spread ids evenly (modulo bias ≤ 256 / 2^32).
 */
export function shardOf(id: string, count: number): number {
  return (createHash('sha256').update(id, 'utf8').digest().readUInt32BE(0) % count) + 1;
}

export function inShard(id: string, shard: Shard): boolean {
  return shardOf(id, shard.count) === shard.index;
}

/** The shards (1-based, ascending) that hold at least one of `ids`, with their ids. */
export function shardsOf(ids: string[], count: number): { shard: string; ids: string[] }[] {
  const by = new Map<number, string[]>();
  for (const id of ids) {
    const i = shardOf(id, count);
    by.set(i, [...(by.get(i) ?? []), id]);
  }
  return [...by.entries()].sort(([a], [b]) => a - b).map(([i, list]) => ({ shard: `${i}/${count}`, ids: list }));
}
