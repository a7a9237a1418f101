import { describe, expect, it, onTestFinished } from 'vitest';
import { localConfig, runLocal, tempDir, uniqueZone } from '../support/certkeeper.js';
import { startOwnPebble } from '../support/stack.js';

describe('faults: Pebble rejecting half of all nonces', () => {
  it('20 of 20 issuances succeed with PEBBLE_WFE_NONCEREJECT=50', async () => {
    const pebble = await startOwnPebble({ env: { PEBBLE_WFE_NONCEREJECT: '50' } });
    onTestFinished(() => pebble.stop());
    expect(pebble.logs()).toContain('reject 50% of good nonces');
    const dir = await tempDir();
    const certificates = Array.from({ length: 20 }, (_, i) => {
      const zone = uniqueZone(`n${i}`);
      return { id: `n${i}`, domains: [zone, `*.${zone}`] };
    });
    const report = await runLocal(localConfig(pebble, dir, certificates, { concurrency: 5 }));
    const failed = report.results.filter((r) => r.status !== 'renewed');
    expect(failed.map((r) => `${r.id}: ${r.error?.message}`)).toEqual([]);
    expect(report.summary.renewed).toBe(20);
  }, 120_000);
});
