import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecretsManagerAccountStore } from '../../../../src/adapters/store/aws-secrets-manager/account.js';
import { textTagValue, urlTagValue } from '../../../../src/adapters/store/aws-secrets-manager/state.js';
import { createSecretsManagerStore } from '../../../../src/adapters/store/aws-secrets-manager/store.js';
import { renewalStateContract } from '../../../contract/store-state.js';
import { useMoto } from '../../../support/aws.js';
import { fakeClock } from '../../../support/clock.js';
import { recordingLogger } from '../../../support/logger.js';

const aws = useMoto();
const logger = recordingLogger();

renewalStateContract('aws-secrets-manager', () => {
  const clock = fakeClock(Date.now());
  return {
    store: async (id) =>
      createSecretsManagerStore(id, { type: 'aws-secrets-manager' }, { logger, clock, clients: aws.clients }),
    accounts: async () =>
      createSecretsManagerAccountStore({ type: 'aws-secrets-manager' }, { logger, clock, clients: aws.clients }),
    advance: (ms) => clock.advance(ms),
    now: () => clock.now(),
    worker: { store: 'aws-secrets-manager' },
  };
});

/** AWS's rule for tag values (moto accepts anything, so check what certkeeper sends). */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

describe('secrets-manager: the renewal state as tags', () => {
  it('sends only tag values AWS accepts, and no UntagResource (not in the IAM policy)', async () => {
    const store = createSecretsManagerStore(
      'tags',
      { type: 'aws-secrets-manager', tags: { team: 'web' }, kmsKeyId: 'alias/aws/secretsmanager' },
      { logger, clock: fakeClock(), clients: aws.clients },
    );
    const from = aws.calls.length;
    await store.writeState({
      failures: {
        count: 4,
        lastClass: 'acme-rejected',
        lastMessage: `acme: validation of x.example.com: {"type": "unauthorized"} — ${'ü'.repeat(300)}`,
        lastAttempt: '2026-06-01T00:00:00.000Z',
        nextAttempt: '2026-06-02T00:00:00.000Z',
      },
      ari: {
        certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
        start: '2026-06-01T00:00:00.000Z',
        end: '2026-06-02T00:00:00.000Z',
        selected: '2026-06-01T12:00:00.000Z',
        explanationURL: 'https://status.example/incidents/1?ref=ari&x=%41',
        nextFetch: '2026-06-01T06:00:00.000Z',
      },
    });
    await store.writeState({ failures: null });
    const calls = aws.calls.slice(from);
    expect(calls.map((c) => c.operation)).toEqual(['TagResource', 'CreateSecret', 'TagResource']);
    // The secret did not exist: created without a value, with the user's tags, the KMS key and the state.
    const create = calls[1]!.input as {
      SecretString?: string;
      KmsKeyId?: string;
      Tags: { Key: string; Value: string }[];
    };
    expect(create.SecretString).toBeUndefined();
    expect(create.KmsKeyId).toBe('alias/aws/secretsmanager');
    expect(create.Tags).toContainEqual({ Key: 'team', Value: 'web' });
    expect(create.Tags).toContainEqual({ Key: 'certkeeper:id', Value: 'tags' });
    for (const call of calls) {
      for (const tag of (call.input as { Tags: { Key: string; Value: string }[] }).Tags) {
        expect(tag.Value, tag.Key).toMatch(TAG_VALUE);
      }
    }
    const state = await store.readState();
    expect(state.failures).toBeUndefined();
    expect(state.ari?.explanationURL).toBe('https://status.example/incidents/1?ref=ari&x=%41');
    const admin = new SecretsManagerClient({});
    const tags = (await admin.send(new DescribeSecretCommand({ SecretId: 'certkeeper/tags' }))).Tags ?? [];
    expect(tags.find((t) => t.Key === 'certkeeper:ari-explanation')?.Value).toMatch(/^b64:/);
    expect(tags.find((t) => t.Key === 'certkeeper:failures')?.Value).toBe('');
  });

  it('tag values: text made to fit, URLs kept as they are or base64url, or dropped', () => {
    expect(textTagValue('a (b) [c]: "d"')).toBe('a b c : d');
    expect(textTagValue('x'.repeat(400))).toHaveLength(255);
    expect(urlTagValue('https://letsencrypt.org/2026/incident')).toBe('https://letsencrypt.org/2026/incident');
    expect(urlTagValue('https://e.example/?a=1')).toMatch(/^b64:[A-Za-z0-9_-]+$/);
    expect(urlTagValue(`https://e.example/?${'a'.repeat(300)}`)).toBeUndefined();
  });
});
