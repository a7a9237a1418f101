import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLASS, encodeName, encodeRecord, messageId, parseMessage, type RecordView, TYPE } from './message.js';

/**
 * TSIG (RFC 8945) with HMAC, written here because no maintained JavaScript implementation exists
 * (npm has none; dns-packet does not sign). Checked against BIND 9, Knot and PowerDNS in the tests.
 */

/** Algorithm names as they go on the wire (RFC 8945 §6), with node's digest for each. */
export const TSIG_ALGORITHMS = {
  'hmac-sha256': 'sha256',
  'hmac-sha512': 'sha512',
  'hmac-sha384': 'sha384',
  'hmac-sha224': 'sha224',
  'hmac-sha1': 'sha1',
} as const;
export type TsigAlgorithm = keyof typeof TSIG_ALGORITHMS;

export const TSIG_ERROR = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
const TSIG_ERROR_NAMES: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

export function tsigErrorName(code: number): string {
  return TSIG_ERROR_NAMES[code] ?? `TSIG error ${code}`;
}

/** The usual window between the signer's and the verifier's clocks (RFC 8945 §10). */
export const FUDGE_SECONDS = 300;

export interface TsigKey {
  /** Lowercase, no trailing dot. */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

export interface SignedRequest {
  wire: Buffer;
  /** Needed to verify the response, whose MAC covers it (RFC 8945 §5.3). */
  mac: Buffer;
  timeSigned: number;
}

interface TsigFields {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** The TSIG variables of RFC 8945 §4.3.3, in the order they are digested. */
function variables(keyName: string, f: Omit<TsigFields, 'mac' | 'originalId'>): Buffer {
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS.ANY, 0);
  return Buffer.concat([
    encodeName(keyName),
    classTtl,
    encodeName(f.algorithm),
    u48(f.timeSigned),
    u16(f.fudge),
    u16(f.error),
    u16(f.otherData.length),
    f.otherData,
  ]);
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm], key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Appends a TSIG record to an unsigned message (its ARCOUNT counts the record). */
export function signRequest(msg: Buffer, key: TsigKey, nowMs: number, fudge = FUDGE_SECONDS): SignedRequest {
  const timeSigned = Math.floor(nowMs / 1000);
  const fields = { algorithm: key.algorithm, timeSigned, fudge, error: 0, otherData: Buffer.alloc(0) };
  const mac = hmac(key, msg, variables(key.name, fields));
  const rdata = Buffer.concat([
    encodeName(key.algorithm),
    u48(timeSigned),
    u16(fudge),
    u16(mac.length),
    mac,
    u16(messageId(msg)),
    u16(0),
    u16(0),
  ]);
  const wire = Buffer.concat([msg, encodeRecord(key.name, TYPE.TSIG, CLASS.ANY, 0, rdata)]);
  wire.writeUInt16BE(msg.readUInt16BE(10) + 1, 10);
  return { wire, mac, timeSigned };
}

function parseFields(record: RecordView, msg: Buffer): TsigFields {
  let o = record.rdataOffset;
  const end = record.end;
  // The algorithm name must not be compressed (RFC 8945 §4.2), so it is read from the RDATA alone.
  const rdata = msg.subarray(o, end);
  const algorithmLength = nameLength(rdata);
  const algorithm = labelsToName(rdata.subarray(0, algorithmLength));
  o += algorithmLength;
  if (o + 10 > end) throw new Error('TSIG record too short');
  const timeSigned = msg.readUIntBE(o, 6);
  const fudge = msg.readUInt16BE(o + 6);
  const macSize = msg.readUInt16BE(o + 8);
  o += 10;
  const mac = msg.subarray(o, o + macSize);
  o += macSize;
  if (o + 6 > end) throw new Error('TSIG record too short');
  const originalId = msg.readUInt16BE(o);
  const error = msg.readUInt16BE(o + 2);
  const otherLen = msg.readUInt16BE(o + 4);
  const otherData = msg.subarray(o + 6, o + 6 + otherLen);
  if (o + 6 + otherLen !== end) throw new Error('TSIG record length does not match its fields');
  return { algorithm, timeSigned, fudge, mac, originalId, error, otherData };
}

function nameLength(buf: Buffer): number {
  let o = 0;
  for (;;) {
    const len = buf[o];
    if (len === undefined) throw new Error('TSIG algorithm name runs past its record');
    if (len === 0) return o + 1;
    if (len >= 0xc0) throw new Error('TSIG algorithm name is compressed');
    o += 1 + len;
  }
}

function labelsToName(buf: Buffer): string {
  const labels: string[] = [];
  let o = 0;
  while (buf[o]) {
    labels.push(buf.toString('latin1', o + 1, o + 1 + buf[o]!));
    o += 1 + buf[o]!;
  }
  return labels.join('.').toLowerCase();
}

export type TsigVerdict =
  /** Signed with our key, MAC and time valid. `error` is the TSIG error field (0 normally; BADTIME is signed). */
  | { status: 'valid'; error: number; timeSigned: number; otherData: Buffer }
  /** No TSIG record at the end of the additional section. */
  | { status: 'missing' }
  /** A TSIG record with an empty MAC: how servers answer BADSIG/BADKEY (RFC 8945 §5.3.2). */
  | { status: 'unsigned'; error: number }
  /** A TSIG record that does not check out; `reason` says why (no key material in it). */
  | { status: 'invalid'; reason: string; error: number };

/**
 * Verifies the TSIG of a response to a request we signed (RFC 8945 §5.3): same key and
 * algorithm, MAC over the request MAC + the response without its TSIG (ID restored, ARCOUNT
 * less one) + the TSIG variables, and a time signed within the fudge of `nowMs`.
 */
export function verifyResponse(msg: Buffer, key: TsigKey, requestMac: Buffer, nowMs: number): TsigVerdict {
  let record: RecordView | undefined;
  let fields: TsigFields;
  try {
    const view = parseMessage(msg);
    record = view.additionals.at(-1);
    if (!record || record.type !== TYPE.TSIG) {
      const elsewhere = [...view.answers, ...view.authorities, ...view.additionals].some((r) => r.type === TYPE.TSIG);
      return elsewhere
        ? { status: 'invalid', reason: 'the TSIG record is not the last record', error: 0 }
        : { status: 'missing' };
    }
    fields = parseFields(record, msg);
  } catch (error) {
    return { status: 'invalid', reason: `malformed TSIG: ${(error as Error).message}`, error: 0 };
  }
  if (record.name.replace(/\.$/, '') !== key.name) {
    return { status: 'invalid', reason: `signed with key ${record.name}, not ${key.name}`, error: fields.error };
  }
  if (fields.mac.length === 0) return { status: 'unsigned', error: fields.error };
  if (fields.algorithm.replace(/\.$/, '') !== key.algorithm) {
    return { status: 'invalid', reason: `signed with ${fields.algorithm}, not ${key.algorithm}`, error: fields.error };
  }
  const unsigned = Buffer.from(msg.subarray(0, record.offset));
  unsigned.writeUInt16BE(fields.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, u16(requestMac.length), requestMac, unsigned, variables(key.name, fields));
  // A truncated MAC is allowed down to half the digest and never below 10 bytes (RFC 8945 §5.2.2.1).
  const size = fields.mac.length;
  if (size > expected.length || size < Math.max(10, Math.ceil(expected.length / 2))) {
    return { status: 'invalid', reason: `MAC of ${size} bytes for ${key.algorithm}`, error: fields.error };
  }
  if (!timingSafeEqual(fields.mac, expected.subarray(0, size))) {
    return { status: 'invalid', reason: 'the MAC does not match', error: fields.error };
  }
  // A BADTIME answer carries the request's time; the server's own is in Other Data (RFC 8945 §5.2.3).
  if (fields.error !== TSIG_ERROR.BADTIME && Math.abs(nowMs / 1000 - fields.timeSigned) > fields.fudge) {
    return { status: 'invalid', reason: 'signed outside the allowed time window', error: fields.error };
  }
  return { status: 'valid', error: fields.error, timeSigned: fields.timeSigned, otherData: fields.otherData };
}
