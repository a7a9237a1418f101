import type { AdapterContext } from '../../ports/adapter.js';
import { type AwsClientFactory, defaultAwsClientFactory } from './clients.js';

/** The AWS client factory of this run (tests inject one with a call observer), else the process-wide one. */
export function awsClients(ctx: AdapterContext): AwsClientFactory {
  return (ctx.services?.aws as AwsClientFactory | undefined) ?? defaultAwsClientFactory();
}
