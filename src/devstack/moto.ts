import { exitedEarly, freePort, startManaged, waitForPort } from './process.js';

export interface Moto {
  /** e.g. http://127.0.0.1:5123 — give it to the SDK as AWS_ENDPOINT_URL. */
  endpoint: string;
  /** Environment for SDK clients pointed at this moto (endpoint, dummy credentials, region). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts `moto_server` (Python, preinstalled) on a free loopback port (`port`: the one to try first). */
export async function startMoto(opts: { port?: number } = {}): Promise<Moto> {
  // Another process can take the port between freePort() and moto's bind (a second test run on
  // the machine did): then something else answers on it and moto exits. Start again on a fresh
  // port, as the Pebble stack does.
  for (let attempt = 1; ; attempt++) {
    const port = attempt === 1 && opts.port ? opts.port : await freePort();
    const proc = startManaged('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      env: { MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
    });
    const endpoint = `http://127.0.0.1:${port}`;
    // Whichever loses the race stops: a probe left polling would connect for 30 s more.
    const settled = new AbortController();
    try {
      await Promise.race([answersAsMoto(endpoint, 30_000, settled.signal), exitedEarly(proc, 'moto_server')]);
    } catch (error) {
      await proc.stop();
      if (/address already in use/i.test(proc.output()) && attempt < 3) continue;
      throw new Error(`moto_server did not start: ${proc.output().slice(-2000)}`, { cause: error });
    } finally {
      settled.abort();
    }
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
}

/** Resolves once moto's own API answers at `endpoint` (an open port alone may be someone else's). */
async function answersAsMoto(endpoint: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await waitForPort(Number(new URL(endpoint).port), timeoutMs, '127.0.0.1', signal);
  for (;;) {
    signal.throwIfAborted();
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
      });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${endpoint} does not answer as moto after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
