import type { AdapterContext } from '../../ports/adapter.js';
import { type AwsClientFactory, createAwsClientFactory } from './clients.js';

/**
 * The AWS client factory of a run. Tests inject one (with a call observer) as `services.aws`;
 * otherwise each run (`createAdapters`, which puts a `scope` object in the context) gets a factory
 * of its own, shared by all its AWS adapters: fifty certificates in one zone share one Route 53
 * client and one set of assumed-role credentials, and a warm Lambda's next invocation does not
 * inherit clients built for another environment.
 */
const perRun = new WeakMap<object, AwsClientFactory>();
let unscoped: AwsClientFactory | undefined;

export function awsClients(ctx: AdapterContext): AwsClientFactory {
  const given = ctx.services?.aws as AwsClientFactory | undefined;
  if (given) return given;
  const scope = ctx.services?.scope as object | undefined;
  if (!scope) {
    unscoped ??= createAwsClientFactory();
    return unscoped;
  }
  let factory = perRun.get(scope);
  if (!factory) {
    factory = createAwsClientFactory();
    perRun.set(scope, factory);
  }
  return factory;
}
