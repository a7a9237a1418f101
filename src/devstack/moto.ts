import { freePort, startManaged, waitForPort } from './process.js';

export interface Moto {
  /** e.g. http://127.0.0.1:5123 — give it to the SDK as AWS_ENDPOINT_URL. */
  endpoint: string;
  /** Environment for SDK clients pointed at this moto (endpoint, dummy credentials, region). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts `moto_server` (Python, preinstalled) on a free loopback port. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const proc = startManaged('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: { MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  try {
    await waitForPort(port, 30_000);
  } catch (error) {
    await proc.stop();
    throw new Error(`moto_server did not start: ${proc.output().slice(-2000)}`, { cause: error });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    },
    stop: proc.stop,
  };
}
