import { randomUUID } from 'node:crypto';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { expect } from 'vitest';

/** SQS through its JSON protocol (there is no SQS client in the dependencies); moto checks no signature. */
async function sqs(endpoint: string, op: string, body: object): Promise<Record<string, unknown>> {
  const res = await fetch(`${endpoint}/`, {
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

/**
 * A bus of our own on moto whose rule forwards certkeeper events into an SQS queue, so a test can
 * read back what a PutEvents really delivered.
 */
export async function busWithQueue(
  endpoint: string,
  prefix = 'hooks',
): Promise<{ bus: string; receive: () => Promise<{ Body: string }[]> }> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const eb = new EventBridgeClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await eb.send(new CreateEventBusCommand({ Name: name }));
  const { QueueUrl } = (await sqs(endpoint, 'CreateQueue', { QueueName: name })) as { QueueUrl: string };
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
  eb.destroy();
  return {
    bus: name,
    receive: async () =>
      (
        (await sqs(endpoint, 'ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 })) as {
          Messages?: { Body: string }[];
        }
      ).Messages ?? [],
  };
}
