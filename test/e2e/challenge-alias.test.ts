import { describe, expect, it } from 'vitest';
import { captureLog, localConfig, runLocal, tempDir, txtValues, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';

const stack = getStack();

async function challtestsrv(path: string, body: object): Promise<void> {
  const r = await fetch(`${stack.challtestsrvUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
}

describe('challengeAlias (CNAME-delegated validation)', () => {
  // One name only: challtestsrv overflows its UDP answer for two TXT values behind a CNAME
  // ("dns: overflowing header size" at Pebble), a limit of the test server, not of real DNS.
  it('writes the values under the alias zone; the CA follows the CNAME', async () => {
    const zone = uniqueZone('alias');
    const alias = 'validation.example.net';
    const aliasName = `_acme-challenge.${zone}.${alias}`;
    // The one-time setup a user makes in the zone they cannot (or will not) give API access to.
    await challtestsrv('/set-cname', { host: `_acme-challenge.${zone}.`, target: `${aliasName}.` });
    try {
      const raw = localConfig(stack, await tempDir(), [{ id: 'alias', domains: [zone] }]);
      (raw.defaults as { dns: Record<string, unknown> }).dns.challengeAlias = alias;
      const log = captureLog();
      const report = await runLocal(raw, { log });
      expect(report.results[0], log.lines.join('\n')).toMatchObject({ status: 'renewed' });
      expect(log.lines.join('\n')).toContain(aliasName);
      expect(await txtValues(stack.dnsResolver, aliasName)).toEqual([]);
    } finally {
      await challtestsrv('/clear-cname', { host: `_acme-challenge.${zone}.` });
    }
  });

  it('without the CNAME the CA does not find the values: a classified failure naming the missing delegation', async () => {
    const zone = uniqueZone('noalias');
    const raw = localConfig(stack, await tempDir(), [{ id: 'noalias', domains: [zone] }]);
    (raw.defaults as { dns: Record<string, unknown> }).dns.challengeAlias = 'validation.example.net';
    const report = await runLocal(raw);
    const [r] = report.results;
    expect(r).toMatchObject({ status: 'failed', error: { class: 'dns-propagation' } });
    expect(r!.error!.message).toContain(
      `_acme-challenge.${zone} is not a CNAME to _acme-challenge.${zone}.validation.example.net`,
    );
    expect(r!.error!.hint).toContain('CNAME');
  });
});
