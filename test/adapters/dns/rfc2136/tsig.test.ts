import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { encodeName, encodeRecord, parseMessage, TYPE } from '../../../../src/adapters/dns/rfc2136/message.js';
import {
  signRequest,
  type TsigAlgorithm,
  type TsigKey,
  verifyResponse,
} from '../../../../src/adapters/dns/rfc2136/tsig.js';
import { freePort } from '../../../../src/devstack/process.js';

/**
 * RFC 8945 has no test vectors, so the signer is checked byte for byte against another
 * implementation: knsupdate (Knot's libknot) signs an UPDATE, we strip its TSIG and sign the
 * same message at the same time with the same key; the two must be identical. (The servers'
 * tests check the other direction: BIND, Knot and PowerDNS accept our signatures and we accept theirs.)
 */

const ALGORITHMS: TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'];

/** The first UDP message knsupdate sends, captured on a socket that never answers. */
async function knsupdateRequest(key: { name: string; algorithm: string; secret: string }): Promise<Buffer> {
  const port = await freePort();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const captured = new Promise<Buffer>((resolve) => socket.once('message', resolve));
  const child = spawn('knsupdate', ['-t', '5', '-r', '0', '-y', `${key.algorithm}:${key.name}:${key.secret}`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin.end(
    [
      `server 127.0.0.1 ${port}`,
      'zone example.test.',
      'update add _acme-challenge.www.example.test. 60 TXT "one value"',
      'update delete _acme-challenge.example.test. TXT "another"',
      'send',
      '',
    ].join('\n'),
  );
  try {
    return await captured;
  } finally {
    child.kill('SIGKILL');
    socket.close();
  }
}

describe('TSIG signing matches an independent implementation (knsupdate)', () => {
  it.each(ALGORITHMS)('%s: byte-identical request', async (algorithm) => {
    const material = { name: 'acme-key.example.test', algorithm, secret: randomBytes(32).toString('base64') };
    const theirs = await knsupdateRequest(material);
    const tsig = parseMessage(theirs).additionals.at(-1)!;
    expect(tsig.type).toBe(TYPE.TSIG);
    const unsigned = Buffer.from(theirs.subarray(0, tsig.offset));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
    // Time signed (48 bits) and fudge sit right after the algorithm name in the RDATA.
    const algorithmName = tsig.rdata.indexOf(0) + 1;
    const timeSigned = tsig.rdata.readUIntBE(algorithmName, 6);
    const fudge = tsig.rdata.readUInt16BE(algorithmName + 6);
    const key: TsigKey = { name: material.name, algorithm, secret: Buffer.from(material.secret, 'base64') };
    const ours = signRequest(unsigned, key, timeSigned * 1000, fudge);
    expect(ours.wire.toString('hex')).toBe(theirs.toString('hex'));
  });
});

/**
 * The server side of RFC 8945 §5.3 written out separately (the digest of a response starts with
 * the request MAC), to hand verifyResponse answers no server here produces: truncated MACs,
 * stale times, other keys.
 */
function serverSign(
  body: Buffer,
  requestMac: Buffer,
  key: TsigKey,
  opts: { timeSigned: number; error?: number; other?: Buffer; truncateTo?: number },
): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const time = Buffer.alloc(6);
  time.writeUIntBE(opts.timeSigned, 0, 6);
  const other = opts.other ?? Buffer.alloc(0);
  const tail = [time, u16(300), u16(opts.error ?? 0), u16(other.length), other];
  const variables = Buffer.concat([
    encodeName(key.name),
    u16(255),
    Buffer.alloc(4),
    encodeName(key.algorithm),
    ...tail,
  ]);
  const digest = createHmac(key.algorithm.replace('hmac-', ''), key.secret)
    .update(Buffer.concat([u16(requestMac.length), requestMac, body, variables]))
    .digest();
  const mac = digest.subarray(0, opts.truncateTo ?? digest.length);
  const rdata = Buffer.concat([
    encodeName(key.algorithm),
    time,
    u16(300),
    u16(mac.length),
    mac,
    body.subarray(0, 2),
    ...tail.slice(2),
  ]);
  const out = Buffer.concat([body, encodeRecord(key.name, TYPE.TSIG, 255, 0, rdata)]);
  out.writeUInt16BE(body.readUInt16BE(10) + 1, 10);
  return out;
}

describe('verifyResponse', () => {
  const key: TsigKey = { name: 'k.example', algorithm: 'hmac-sha256', secret: randomBytes(32) };
  const now = Date.UTC(2026, 11, 1);
  const at = now / 1000;
  const body = Buffer.from('1234a8000000000000000000', 'hex'); // an UPDATE response header, no records
  const requestMac = randomBytes(32);

  it('accepts what a server signs with the key, for the request MAC', () => {
    expect(verifyResponse(serverSign(body, requestMac, key, { timeSigned: at }), key, requestMac, now)).toMatchObject({
      status: 'valid',
      error: 0,
    });
  });

  it('rejects an answer without TSIG, or signed with another secret, key name or request MAC', () => {
    expect(verifyResponse(body, key, requestMac, now)).toEqual({ status: 'missing' });
    const other = serverSign(body, requestMac, { ...key, secret: randomBytes(32) }, { timeSigned: at });
    expect(verifyResponse(other, key, requestMac, now)).toMatchObject({
      status: 'invalid',
      reason: 'the MAC does not match',
    });
    const renamed = serverSign(body, requestMac, { ...key, name: 'evil.example' }, { timeSigned: at });
    expect(verifyResponse(renamed, key, requestMac, now)).toMatchObject({ status: 'invalid' });
    const replayed = serverSign(body, randomBytes(32), key, { timeSigned: at });
    expect(verifyResponse(replayed, key, requestMac, now)).toMatchObject({
      status: 'invalid',
      reason: 'the MAC does not match',
    });
  });

  it('checks the time signed against the fudge (300 s)', () => {
    const signed = serverSign(body, requestMac, key, { timeSigned: at });
    expect(verifyResponse(signed, key, requestMac, now + 299_000)).toMatchObject({ status: 'valid' });
    expect(verifyResponse(signed, key, requestMac, now + 301_000)).toMatchObject({
      status: 'invalid',
      reason: 'signed outside the allowed time window',
    });
  });

  it('a signed BADTIME answer is valid outside the window and carries the server time', () => {
    const other = Buffer.alloc(6);
    other.writeUIntBE(at + 3600, 0, 6);
    const signed = serverSign(body, requestMac, key, { timeSigned: at - 3600, error: 18, other });
    expect(verifyResponse(signed, key, requestMac, now)).toMatchObject({
      status: 'valid',
      error: 18,
      otherData: other,
    });
  });

  it('accepts a MAC truncated to half the digest, not below (RFC 8945 §5.2.2.1)', () => {
    expect(
      verifyResponse(serverSign(body, requestMac, key, { timeSigned: at, truncateTo: 16 }), key, requestMac, now),
    ).toMatchObject({
      status: 'valid',
    });
    expect(
      verifyResponse(serverSign(body, requestMac, key, { timeSigned: at, truncateTo: 10 }), key, requestMac, now),
    ).toMatchObject({
      status: 'invalid',
      reason: 'MAC of 10 bytes for hmac-sha256',
    });
  });

  it('an empty MAC is an unsigned error answer (BADSIG/BADKEY), never valid', () => {
    const signed = serverSign(body, requestMac, key, { timeSigned: at, error: 16, truncateTo: 0 });
    expect(verifyResponse(signed, key, requestMac, now)).toEqual({ status: 'unsigned', error: 16 });
  });
});
