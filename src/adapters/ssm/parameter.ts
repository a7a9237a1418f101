import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../../ports/errors.js';
import { type AwsClientFactory, defaultAwsClientFactory } from '../aws/clients.js';

/**
 * Reads one SSM parameter (SecureString decrypted), for the Lambda's
 * CERTKEEPER_CONFIG_SSM_PARAMETER. Region, credentials and endpoint come from the SDK's default
 * chain (the function's role; AWS_ENDPOINT_URL in tests). A parameter that does not exist is a
 * config error, like a missing config file; anything else is thrown as is, so the invocation
 * fails and EventBridge Scheduler's retry policy gets a chance.
 */
export async function readSsmParameter(
  name: string,
  opts: { client?: SSMClient; clients?: AwsClientFactory; source?: string } = {},
): Promise<string> {
  // From the client factory like every AWS call, so the IAM call inventory sees it too.
  const client = opts.client ?? (opts.clients ?? defaultAwsClientFactory()).ssm({});
  const source = opts.source ?? name;
  try {
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (value === undefined) throw new ConfigError([{ path: source, message: `SSM parameter ${name} has no value` }]);
    return value;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') {
      throw new ConfigError([{ path: source, message: `SSM parameter ${name} not found` }], { cause: error });
    }
    if (error instanceof ConfigError) throw error;
    throw new Error(`ssm: GetParameter ${name} failed: ${(error as Error).message}`, { cause: error });
  }
}
