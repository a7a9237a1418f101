import { randomUUID } from 'node:crypto';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  type PutEventsCommand,
  type PutEventsCommandOutput,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createEventBridgeHook, type EventBridgeLike } from '../../src/adapters/hooks/eventbridge.js';
import { type Moto, startMoto } from '../../src/devstack/moto.js';
import { recordingLogger, sampleEvent } from './helpers.js';

/** The run-wide moto from global-setup when there is one; otherwise one of our own. */
let motoEnv: Record<string, string>;
let ownMoto: Moto | undefined;

beforeAll(async () => {
  let shared: { motoEnv: Record<string, string> } | undefined;
  try {
    shared = inject('stack' as never) as { motoEnv: Record<string, string> } | undefined;
  } catch {
    shared = undefined;
  }
  if (shared?.motoEnv) motoEnv = shared.motoEnv;
  else {
    ownMoto = await startMoto();
    motoEnv = ownMoto.env;
  }
});
afterAll(async () => {
  await ownMoto?.stop();
});

function motoClient(): EventBridgeClient {
  return new EventBridgeClient({
    endpoint: motoEnv.AWS_ENDPOINT_URL,
    region: motoEnv.AWS_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

/** SQS through its JSON protocol (no SQS client in the dependencies); moto does not check signatures. */
async function sqs(op: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${motoEnv.AWS_ENDPOINT_URL}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${op}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** A bus whose rule forwards certkeeper events to an SQS queue, so we can read what arrived. */
async function busWithQueue(): Promise<{ bus: string; queueUrl: string }> {
  const name = `hooks-${randomUUID().slice(0, 8)}`;
  const eb = motoClient();
  await eb.send(new CreateEventBusCommand({ Name: name }));
  const { QueueUrl } = (await sqs('CreateQueue', { QueueName: name })) as { QueueUrl: string };
  await eb.send(
    new PutRuleCommand({ Name: name, EventBusName: name, EventPattern: JSON.stringify({ source: ['certkeeper'] }) }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: name,
      Targets: [{ Id: 'q', Arn: `arn:aws:sqs:us-east-1:123456789012:${name}` }],
    }),
  );
  return { bus: name, queueUrl: QueueUrl };
}

describe('aws-eventbridge hook', () => {
  it('puts the event on the bus: source, detail-type = event type, detail = the event', async () => {
    const { bus, queueUrl } = await busWithQueue();
    const event = sampleEvent();
    const hook = createEventBridgeHook(
      { type: 'aws-eventbridge', eventBusName: bus, source: 'certkeeper', on: ['renewed'] },
      { logger: recordingLogger(), client: motoClient() },
    );

    const outcome = await hook.run(event, {});

    expect(outcome.status).toBe('ok');
    expect(outcome.message).toMatch(new RegExp(`^put on ${bus} bus \\(.+\\)$`));
    const { Messages } = (await sqs('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10 })) as {
      Messages: { Body: string }[];
    };
    expect(Messages).toHaveLength(1);
    const envelope = JSON.parse(Messages[0]!.Body);
    expect(envelope.source).toBe('certkeeper');
    expect(envelope['detail-type']).toBe('certificate.renewed');
    expect(envelope.detail).toEqual(event);
  });

  it('builds its own client from the standard AWS environment (AWS_ENDPOINT_URL)', async () => {
    const { bus, queueUrl } = await busWithQueue();
    for (const [k, v] of Object.entries(motoEnv)) vi.stubEnv(k, v);
    try {
      const hook = createEventBridgeHook(
        { type: 'aws-eventbridge', eventBusName: bus, source: 'certkeeper', on: ['renewed'] },
        { logger: recordingLogger() },
      );
      expect((await hook.run(sampleEvent(), {})).status).toBe('ok');
    } finally {
      vi.unstubAllEnvs();
    }
    const { Messages } = (await sqs('ReceiveMessage', { QueueUrl: queueUrl })) as { Messages: unknown[] };
    expect(Messages).toHaveLength(1);
  });

  it('fails when the bus does not exist', async () => {
    const hook = createEventBridgeHook(
      { type: 'aws-eventbridge', eventBusName: 'no-such-bus', source: 'certkeeper', on: ['renewed'] },
      { logger: recordingLogger(), client: motoClient() },
    );
    await expect(hook.run(sampleEvent(), {})).rejects.toThrow(
      /^aws-eventbridge: PutEvents failed: Event bus no-such-bus does not exist/,
    );
  });

  it('treats FailedEntryCount > 0 as a failure (PutEvents answers 200 then)', async () => {
    // moto only fails entries for malformed detail, which this hook never sends: a stub plays AWS here.
    const sent: PutEventsCommand[] = [];
    const client: EventBridgeLike = {
      send: async (command) => {
        sent.push(command);
        return {
          FailedEntryCount: 1,
          Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again later' }],
          $metadata: {},
        } satisfies PutEventsCommandOutput;
      },
    };
    const hook = createEventBridgeHook(
      { type: 'aws-eventbridge', source: 'certkeeper', on: ['renewed'] },
      { logger: recordingLogger(), client },
    );
    await expect(hook.run(sampleEvent(), {})).rejects.toThrow(
      /^aws-eventbridge: PutEvents rejected the event \(InternalFailure: try again later\)/,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]!.input.Entries?.[0]?.EventBusName).toBeUndefined();
  });
});
