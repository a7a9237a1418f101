import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { isTransientNetworkError } from '../../ports/errors.js';

/** The error's AWS name (`Throttling`, `ResourceNotFoundException`, …), or ''. */
export function awsErrorName(error: unknown): string {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | null;
  if (!e) return '';
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.name === 'string') return e.name;
  return typeof e.code === 'string' ? e.code : '';
}

/** HTTP status of an SDK error, when it has one. */
export function awsStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** A short, key-free description of an SDK error for messages: `Name: message`. */
export function describeAwsError(error: unknown): string {
  const name = awsErrorName(error) || 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return message && message !== name ? `${name}: ${message}` : name;
}

/** A hint for errors the user fixes in IAM or credentials rather than by retrying. */
export function awsHint(error: unknown): string | undefined {
  const name = awsErrorName(error);
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    return 'the AWS credentials lack a permission; `certkeeper iam-policy -c <config>` prints the policy this config needs';
  }
  if (
    /ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|CredentialsProviderError/i.test(name)
  ) {
    return 'no valid AWS credentials: check the credentials chain (OIDC role, env, profile) and roleArn';
  }
  return undefined;
}

/** Throttling (Throttling, PriorRequestNotComplete, 429, …) as the AWS SDK itself classifies it. */
export function isAwsThrottling(error: unknown): boolean {
  return isThrottlingError(error as never);
}

/** Worth another try: throttling, a transient or server error (SDK classification), or a dropped connection. */
export function isRetryableAwsError(error: unknown): boolean {
  const e = error as never;
  return isThrottlingError(e) || isTransientError(e) || isServerError(e) || isTransientNetworkError(error);
}
