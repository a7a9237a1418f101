import { X509Certificate } from 'node:crypto';
import type { AriState } from '../ports/store.js';

/**
 * ACME Renewal Information (RFC 9773), the pure part: the certificate's id, the drawn renewal time,
 * the Retry-After bounds and when the window makes a certificate due. The HTTP side is in acme.ts,
 * what to do with the decision in plan/runner.
 */

const HOUR = 3_600_000;
/** cert-manager's bounds: a CA cannot make us poll more than hourly, nor go quiet for more than a week. */
export const MIN_RETRY_AFTER_MS = HOUR;
export const MAX_RETRY_AFTER_MS = 7 * 24 * HOUR;
/** What Let's Encrypt and Pebble send; used when a CA sends none (or an unparsable one). */
export const DEFAULT_RETRY_AFTER_MS = 6 * HOUR;

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte (= the next element's offset). */
  end: number;
}

/** One DER element at `offset`. Throws on a truncated or indefinite-length encoding. */
function tlv(der: Uint8Array, offset: number, limit = der.length): Tlv {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = der[offset] as number;
  let length = der[offset + 1] as number;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    // 0x80 is BER's indefinite length, never valid DER; four bytes cover any certificate.
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] as number);
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start, end };
}

/** The children of a constructed element. */
function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = tlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OID = 0x06;
const OCTET_STRING = 0x04;
/** tbsCertificate's `[3] EXPLICIT Extensions`. */
const EXTENSIONS = 0xa3;
/** AuthorityKeyIdentifier's `[0] IMPLICIT KeyIdentifier`. */
const KEY_IDENTIFIER = 0x80;
/** id-ce-authorityKeyIdentifier, 2.5.29.35. */
const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]);

/**
 * The RFC 9773 §4.1 certificate id: base64url(AKI keyIdentifier) "." base64url(serial), where the
 * serial is the DER INTEGER's content bytes as encoded, so a serial with its high bit set keeps its
 * leading 0x00 (ZeroSSL rejects ids without it). Read with a minimal DER walk over the bytes Node's
 * own parser has accepted: Node exposes neither the AKI nor the serial's encoding, and
 * @peculiar/x509 costs ~125 ms to load on every run. Returns undefined for a certificate without an
 * AKI keyIdentifier (self-signed ones), which no CA can have renewal information for.
 */
export function ariCertId(certificate: string | Buffer | X509Certificate): string | undefined {
  const der = new Uint8Array(
    (certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate)).raw,
  );
  const cert = tlv(der, 0);
  const [tbs] = children(der, cert);
  if (!tbs || tbs.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  const fields = children(der, tbs);
  // `[0] EXPLICIT version` is absent in v1 certificates; the serial follows it.
  const serial = fields[0]?.tag === 0xa0 ? fields[1] : fields[0];
  if (!serial || serial.tag !== INTEGER || serial.end === serial.start) throw new Error('no serial number');
  const extensions = fields.find((f) => f.tag === EXTENSIONS);
  if (!extensions) return undefined;
  const [list] = children(der, extensions);
  if (!list) return undefined;
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    const id = parts[0];
    if (!id || id.tag !== OID || !AKI_OID.equals(der.subarray(id.start, id.end))) continue;
    // extnID, optional critical BOOLEAN, extnValue OCTET STRING holding the AuthorityKeyIdentifier.
    const value = parts.at(-1);
    if (!value || value.tag !== OCTET_STRING) throw new Error('malformed authorityKeyIdentifier');
    const aki = tlv(der, value.start, value.end);
    if (aki.tag !== SEQUENCE) throw new Error('malformed authorityKeyIdentifier');
    const keyId = children(der, aki).find((c) => c.tag === KEY_IDENTIFIER);
    if (!keyId || keyId.end === keyId.start) return undefined;
    const b64 = (t: Tlv) => Buffer.from(der.subarray(t.start, t.end)).toString('base64url');
    return `${b64(keyId)}.${b64(serial)}`;
  }
  return undefined;
}

/**
 * When to ask the CA again, from its Retry-After (seconds or an HTTP date): clamped to 1 h–7 d,
 * 6 h when absent or unparsable (RFC 9773 §4.3 leaves the bounds to the client).
 */
export function ariNextFetch(retryAfter: string | undefined, now: Date): Date {
  let ms = DEFAULT_RETRY_AFTER_MS;
  const value = retryAfter?.trim();
  if (value) {
    const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    const date = Number.isNaN(seconds) ? Date.parse(value) : Number.NaN;
    if (!Number.isNaN(seconds)) ms = seconds * 1000;
    else if (!Number.isNaN(date)) ms = date - now.getTime();
  }
  return new Date(now.getTime() + Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, ms)));
}

export interface RenewalWindow {
  start: Date;
  end: Date;
  explanationURL?: string;
}

export type ParsedRenewalInfo = { ok: true; window: RenewalWindow } | { ok: false; problem: string };

const ISO_LIKE = /^\d{4}-\d{2}-\d{2}T/;

/**
 * The renewalInfo body (RFC 9773 §4.2): `suggestedWindow {start, end}` (RFC 3339) and maybe
 * `explanationURL`. A window whose end is not after its start is invalid (§4.2) and ignored, as is
 * an explanationURL that is not an http(s) URL (it ends up in summaries and events).
 */
export function parseRenewalInfo(body: unknown): ParsedRenewalInfo {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problem: 'not a JSON object' };
  const window = (body as { suggestedWindow?: unknown }).suggestedWindow as { start?: unknown; end?: unknown } | null;
  if (typeof window !== 'object' || window === null) return { ok: false, problem: 'no suggestedWindow' };
  const at = (v: unknown) => (typeof v === 'string' && ISO_LIKE.test(v) ? Date.parse(v) : Number.NaN);
  const start = at(window.start);
  const end = at(window.end);
  if (Number.isNaN(start) || Number.isNaN(end))
    return { ok: false, problem: 'suggestedWindow start/end are not RFC 3339 times' };
  if (end <= start) {
    return { ok: false, problem: `suggestedWindow ends (${window.end}) before it starts (${window.start})` };
  }
  const url = (body as { explanationURL?: unknown }).explanationURL;
  let explanationURL: string | undefined;
  if (typeof url === 'string') {
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:') explanationURL = parsed.href;
    } catch {
      // not a URL: dropped
    }
  }
  return {
    ok: true,
    window: { start: new Date(start), end: new Date(end), ...(explanationURL ? { explanationURL } : {}) },
  };
}

/** A time drawn uniformly in [start, end) (RFC 9773 §4.2: spreads the CA's load over the window). */
export function drawRenewalTime(window: Pick<RenewalWindow, 'start' | 'end'>, random: () => number): Date {
  const span = window.end.getTime() - window.start.getTime();
  return new Date(window.start.getTime() + Math.floor(Math.min(Math.max(random(), 0), 1 - Number.EPSILON) * span));
}

/**
 * The state to keep after fetching `window` for `certId`: the selected time survives as long as
 * the window is unchanged, so every run (Action, Lambda, CLI) keeps agreeing on it; a moved window
 * gets a new draw.
 */
export function nextAriState(
  previous: AriState | undefined,
  certId: string,
  window: RenewalWindow,
  nextFetch: Date,
  random: () => number,
): AriState {
  const start = window.start.toISOString();
  const end = window.end.toISOString();
  const same = previous?.certId === certId && previous.start === start && previous.end === end;
  const selected = same ? previous.selected : drawRenewalTime(window, random).toISOString();
  return {
    certId,
    start,
    end,
    selected,
    ...(window.explanationURL ? { explanationURL: window.explanationURL } : {}),
    nextFetch: nextFetch.toISOString(),
  };
}

/** Whether the kept window is stale: another certificate's, or past its Retry-After. */
export function ariFetchDue(state: AriState | undefined, certId: string, now: Date): boolean {
  return !state || state.certId !== certId || !(Date.parse(state.nextFetch) > now.getTime());
}

export type AriDecision =
  /** The window's end has passed: the CA wants the certificate replaced now (incident, revocation). */
  | { due: true; why: 'window-passed'; window: RenewalWindow; selected: Date }
  | { due: true; why: 'selected-time'; window: RenewalWindow; selected: Date }
  | { due: false; window: RenewalWindow; selected: Date };

/**
 * What the kept window says at `now` for the certificate `certId`. Undefined when there is nothing
 * to go by: no state, another certificate's state, or an invalid window (end ≤ start); the
 * threshold then decides alone.
 */
export function ariDecision(state: AriState | undefined, certId: string, now: Date): AriDecision | undefined {
  if (!state || state.certId !== certId) return undefined;
  const start = Date.parse(state.start);
  const end = Date.parse(state.end);
  const selected = Date.parse(state.selected);
  if (Number.isNaN(start) || Number.isNaN(end) || Number.isNaN(selected) || end <= start) return undefined;
  const window: RenewalWindow = {
    start: new Date(start),
    end: new Date(end),
    ...(state.explanationURL ? { explanationURL: state.explanationURL } : {}),
  };
  const t = now.getTime();
  if (t >= end) return { due: true, why: 'window-passed', window, selected: new Date(selected) };
  if (t >= selected) return { due: true, why: 'selected-time', window, selected: new Date(selected) };
  return { due: false, window, selected: new Date(selected) };
}
