import { EventBridgeClient, type PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type AwsCall, createAwsClientFactory } from '../../../../src/adapters/aws/clients.js';
import { awsEventBridge } from '../../../../src/adapters/hook/aws-eventbridge/descriptor.js';
import {
  createEventBridgeHook,
  type EventBridgeLike,
} from '../../../../src/adapters/hook/aws-eventbridge/eventbridge.js';
import { type Moto, startMoto } from '../../../../src/devstack/moto.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { busWithQueue } from '../../../support/eventbridge-queue.js';
import { sampleEvent } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/logger.js';

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

describe('aws-eventbridge hook', () => {
  it('puts the event on the bus: source, detail-type = event type, detail = the event', async () => {
    const { bus, receive } = await busWithQueue(motoEnv.AWS_ENDPOINT_URL as string);
    const event = sampleEvent();
    const hook = createEventBridgeHook(
      { type: 'aws-eventbridge', eventBusName: bus, source: 'certkeeper', on: ['renewed'] },
      { logger: recordingLogger(), client: motoClient() },
    );

    const outcome = await hook.run(event, {});

    expect(outcome.status).toBe('ok');
    expect(outcome.message).toMatch(new RegExp(`^put on ${bus} bus \\(.+\\)$`));
    const Messages = await receive();
    expect(Messages).toHaveLength(1);
    const envelope = JSON.parse(Messages[0]!.Body);
    expect(envelope.source).toBe('certkeeper');
    expect(envelope['detail-type']).toBe('certificate.renewed');
    expect(envelope.detail).toEqual(event);
  });

  it('builds its own client from the standard AWS environment (AWS_ENDPOINT_URL)', async () => {
    const { bus, receive } = await busWithQueue(motoEnv.AWS_ENDPOINT_URL as string);
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
    const Messages = await receive();
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

describe('aws-eventbridge hook built from its descriptor', () => {
  it("calls through the run's AWS client factory, so the IAM call inventory sees PutEvents", async () => {
    const { bus, receive } = await busWithQueue(motoEnv.AWS_ENDPOINT_URL as string);
    const calls: AwsCall[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, motoEnv);
    try {
      const hook = await awsEventBridge.create(
        { type: 'aws-eventbridge', eventBusName: bus, source: 'certkeeper', on: ['renewed'] },
        {
          clock: systemClock,
          logger: recordingLogger(),
          env: {},
          entry: 'lambda',
          lookup: {} as never,
          services: { aws: createAwsClientFactory({ onCall: (c) => calls.push(c) }) },
        },
      );
      await hook.run(sampleEvent(), {});
    } finally {
      for (const k of Object.keys(motoEnv)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    expect(calls.map((c) => `${c.service}:${c.operation}`)).toEqual(['events:PutEvents']);
    expect(await receive()).toHaveLength(1);
  });
});
