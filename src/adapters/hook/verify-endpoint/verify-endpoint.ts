import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Clock } from '../../../ports/clock.js';
import { HookError } from '../../../ports/errors.js';
import type { CertificateEvent, DeployHook, EndpointState, HookOutcome } from '../../../ports/hooks.js';
import type { Logger } from '../../../ports/logger.js';
import { errorMessage } from '../common.js';
import type { VerifyEndpointConfig } from './descriptor.js';

export interface TlsProbe {
  /** Where to connect (after `resolveHost`). */
  host: string;
  port: number;
  /** The name sent as SNI, which picks the certificate on a multi-site server. */
  servername: string;
  signal: AbortSignal;
}

export interface VerifyEndpointDeps {
  logger: Logger;
  /** Waits between polls go through the clock; the deadline is measured on it too. */
  clock: Clock;
  /** Poll interval; default 3 s. */
  intervalMs?: number;
  /** Maps an endpoint's host to the address to connect to (tests: `example.com` → 127.0.0.1). */
  resolveHost?: (host: string) => string;
  /** One TLS handshake, returning the served leaf's serial (hex). Default: node:tls. */
  probe?: (probe: TlsProbe) => Promise<string>;
}

const DEFAULT_INTERVAL_MS = 3_000;
/** One handshake may take at most this long (or what is left of the timeout, if less). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Polls every endpoint until it serves the certificate of the event (compared by serial number),
 * because load balancers and CDNs pick up a new certificate some time after it is stored.
 * Not being served in time is a `warning`, not a failure: the certificate itself was renewed.
 */
export function createVerifyEndpointHook(config: VerifyEndpointConfig, deps: VerifyEndpointDeps): DeployHook {
  const timeoutMs = config.timeout;
  const intervalMs = deps.intervalMs ?? DEFAULT_INTERVAL_MS;
  const probe = deps.probe ?? probeServedSerial;
  const endpoints = config.endpoints.map(parseEndpoint);
  const log = deps.logger.child({ hook: 'verify-endpoint' });

  return {
    type: 'verify-endpoint',
    on: config.on,
    async run(event: CertificateEvent, _context, signal?: AbortSignal): Promise<HookOutcome> {
      const expected = event.data.serialNumber;
      if (!expected) throw new HookError('verify-endpoint: the event carries no serial number to look for');
      const want = normalizeSerial(expected);
      const deadline = deps.clock.now().getTime() + timeoutMs;

      const results = await Promise.all(
        endpoints.map(async (endpoint): Promise<{ endpoint: string; ok: boolean; seen: string }> => {
          const servername = sniFor(endpoint.host, event.data.domains);
          const host = deps.resolveHost ? deps.resolveHost(endpoint.host) : endpoint.host;
          let seen = 'nothing yet';
          for (let attempt = 1; ; attempt++) {
            const left = deadline - deps.clock.now().getTime();
            try {
              const served = await probe({
                host,
                port: endpoint.port,
                servername,
                signal: handshakeSignal(Math.max(1_000, Math.min(HANDSHAKE_TIMEOUT_MS, left)), signal),
              });
              if (normalizeSerial(served) === want) {
                log.info('endpoint serves the new certificate', { endpoint: endpoint.text, attempt });
                return { endpoint: endpoint.text, ok: true, seen: 'the new certificate' };
              }
              seen = `serves ${served.toLowerCase()}`;
            } catch (error) {
              if (signal?.aborted)
                throw new HookError('verify-endpoint: cancelled, the run is stopping', { cause: error });
              seen = `unreachable (${errorMessage(error)})`;
            }
            if (deps.clock.now().getTime() + intervalMs > deadline) return { endpoint: endpoint.text, ok: false, seen };
            log.debug('endpoint does not serve the new certificate yet', { endpoint: endpoint.text, seen, servername });
            await deps.clock.sleep(intervalMs, signal);
          }
        }),
      );

      const missing = results.filter((r) => !r.ok);
      if (missing.length === 0) {
        return {
          status: 'ok',
          message: `${endpoints.length === 1 ? 'endpoint serves' : 'all endpoints serve'} ${want}`,
        };
      }
      return {
        status: 'warning',
        message: `renewed but not served: ${missing.map((r) => `${r.endpoint} ${r.seen}`).join('; ')}`,
      };
    },

    // The doctor's look: one handshake per endpoint, the same SNI and probe as a run's wait.
    async inspect(expected, signal): Promise<EndpointState[]> {
      const want = normalizeSerial(expected.serialNumber);
      return Promise.all(
        endpoints.map(async (endpoint): Promise<EndpointState> => {
          const host = deps.resolveHost ? deps.resolveHost(endpoint.host) : endpoint.host;
          try {
            const served = await probe({
              host,
              port: endpoint.port,
              servername: sniFor(endpoint.host, expected.domains),
              signal: handshakeSignal(Math.min(HANDSHAKE_TIMEOUT_MS, timeoutMs), signal),
            });
            const servedSerial = normalizeSerial(served);
            return { endpoint: endpoint.text, servedSerial, serves: servedSerial === want };
          } catch (error) {
            if (signal?.aborted)
              throw new HookError('verify-endpoint: cancelled, the run is stopping', { cause: error });
            return { endpoint: endpoint.text, serves: false, error: errorMessage(error) };
          }
        }),
      );
    },
  };
}

interface Endpoint {
  text: string;
  host: string;
  port: number;
}

function parseEndpoint(text: string): Endpoint {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  const host = text.slice(0, colon).replace(/^\[|\]$/g, '');
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535 || !host) {
    throw new HookError(`verify-endpoint: "${text}" is not "host:port"`);
  }
  return { text, host, port };
}

/**
 * SNI picks which certificate a server presents. The endpoint's own name when the certificate
 * covers it (that is what browsers send); otherwise, e.g. for an IP or a load balancer's name,
 * a name of the certificate — for a wildcard-only certificate, a made-up label under it.
 */
export function sniFor(endpointHost: string, domains: readonly string[]): string {
  const host = endpointHost.toLowerCase().replace(/\.$/, '');
  if (!isIP(host) && domains.some((d) => covers(d, host))) return host;
  const plain = domains.find((d) => !d.startsWith('*.'));
  if (plain) return plain;
  const wildcard = domains[0];
  if (!wildcard) throw new HookError('verify-endpoint: the event names no domains');
  return `certkeeper-verify.${wildcard.slice(2)}`;
}

function covers(domain: string, host: string): boolean {
  const d = domain.toLowerCase();
  if (!d.startsWith('*.')) return d === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === d.slice(2);
}

/** Node prints serials upper-case, sometimes with a leading zero byte; stores may not. */
export function normalizeSerial(serial: string): string {
  return serial
    .replace(/[:\s]/g, '')
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

function handshakeSignal(ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** One TLS handshake; returns the leaf's serial. Trust is not checked: we compare serials only. */
export function probeServedSerial(p: TlsProbe): Promise<string> {
  return new Promise((resolve, reject) => {
    if (p.signal.aborted) return reject(p.signal.reason);
    const socket = tlsConnect({
      host: p.host,
      port: p.port,
      servername: p.servername,
      // We compare serials, not trust: the endpoint may well serve a certificate we cannot verify.
      // No `session` is passed, so every probe is a full handshake showing the current certificate.
      rejectUnauthorized: false,
    });
    const onAbort = () => {
      socket.destroy();
      reject(p.signal.reason instanceof Error ? p.signal.reason : new Error('handshake timed out'));
    };
    p.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber;
      p.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (serial) resolve(serial);
      else reject(new Error('the server presented no certificate'));
    });
    socket.once('error', (error) => {
      p.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    });
  });
}
