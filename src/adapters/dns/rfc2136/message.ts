import dnsPacket from 'dns-packet';

/**
 * DNS wire helpers for DNS UPDATE (RFC 2136) on top of dns-packet. dns-packet encodes whole
 * messages but knows no class NONE (254), which an RR-specific delete needs (RFC 2136 §2.5.4),
 * and gives no offsets of records, which TSIG needs (the MAC covers the message up to the TSIG
 * record). So records are encoded here from dns-packet's name and TXT codecs and appended to a
 * header + question that dns-packet encodes.
 */

interface Codec<T> {
  encode(value: T, buf?: Buffer, offset?: number): Buffer;
  decode(buf: Buffer, offset?: number): T;
  encodingLength(value: T): number;
}
type WithBytes<F> = F & { bytes: number };
interface NameCodec extends Codec<string> {
  decode: WithBytes<(buf: Buffer, offset?: number) => string>;
}
const codecs = dnsPacket as unknown as { name: NameCodec; txt: Codec<Buffer[]> };

export const TYPE = { NS: 2, CNAME: 5, SOA: 6, TXT: 16, TSIG: 250 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE_UPDATE = 5;

export const RCODE: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};

/** The largest message sent or accepted over UDP without EDNS (RFC 1035 §4.2.1). */
export const UDP_MAX = 512;

/** Wire form of a name: lowercase (the canonical form TSIG digests, RFC 8945 §4.3.3), uncompressed. */
export function encodeName(name: string): Buffer {
  return codecs.name.encode(name.toLowerCase().replace(/\.$/, '') || '.');
}

/** Reads a (possibly compressed) name at `offset`; returns it lowercase and the bytes it took there. */
export function decodeName(buf: Buffer, offset: number): { name: string; bytes: number } {
  const name = codecs.name.decode(buf, offset);
  return { name: name.toLowerCase(), bytes: codecs.name.decode.bytes };
}

/** TXT RDATA (no length prefix): the value in character-strings of at most 255 bytes. */
export function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const strings: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) strings.push(bytes.subarray(i, i + 255));
  if (strings.length === 0) strings.push(Buffer.alloc(0));
  return codecs.txt.encode(strings).subarray(2);
}

/** One resource record in wire form. */
export function encodeRecord(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const owner = encodeName(name);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

/**
 * An UPDATE message: the zone section names the zone (class IN, type SOA), no prerequisites,
 * `updates` as the update section (RFC 2136 §2).
 */
export function encodeUpdate(id: number, zone: string, updates: Buffer[]): Buffer {
  const head = dnsPacket.encode({
    id,
    type: 'query',
    flags: OPCODE_UPDATE << 11,
    questions: [{ name: zone, type: 'SOA', class: 'IN' }],
  });
  const msg = Buffer.concat([head, ...updates]);
  msg.writeUInt16BE(updates.length, 8);
  return msg;
}

/** A plain query without recursion (the server is authoritative; we want its own data). */
export function encodeQuery(id: number, name: string, type: 'SOA' | 'NS'): Buffer {
  return dnsPacket.encode({ id, type: 'query', flags: 0, questions: [{ name, type, class: 'IN' }] });
}

export function messageId(msg: Buffer): number {
  return msg.readUInt16BE(0);
}

export function isResponse(msg: Buffer): boolean {
  return msg.length >= 12 && (msg[2]! & 0x80) !== 0;
}

export function isTruncated(msg: Buffer): boolean {
  return (msg[2]! & 0x02) !== 0;
}

export function rcodeOf(msg: Buffer): number {
  return msg[3]! & 0x0f;
}

export function rcodeName(rcode: number): string {
  return RCODE[rcode] ?? `RCODE${rcode}`;
}

export interface RecordView {
  /** Where the record starts in the message. */
  offset: number;
  end: number;
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdataOffset: number;
  rdata: Buffer;
}

export interface MessageView {
  questions: { name: string; type: number; klass: number }[];
  answers: RecordView[];
  authorities: RecordView[];
  additionals: RecordView[];
}

/** Walks a message's sections, keeping each record's offsets (names may be compressed). */
export function parseMessage(msg: Buffer): MessageView {
  if (msg.length < 12) throw new Error('DNS message shorter than its header');
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o)) as [number, number, number, number];
  let offset = 12;
  const questions: MessageView['questions'] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, bytes } = decodeName(msg, offset);
    offset += bytes;
    questions.push({ name, type: msg.readUInt16BE(offset), klass: msg.readUInt16BE(offset + 2) });
    offset += 4;
  }
  const section = (n: number): RecordView[] => {
    const out: RecordView[] = [];
    for (let i = 0; i < n; i++) {
      const start = offset;
      const { name, bytes } = decodeName(msg, offset);
      offset += bytes;
      if (offset + 10 > msg.length) throw new Error('DNS record runs past the end of the message');
      const type = msg.readUInt16BE(offset);
      const klass = msg.readUInt16BE(offset + 2);
      const ttl = msg.readUInt32BE(offset + 4);
      const len = msg.readUInt16BE(offset + 8);
      const rdataOffset = offset + 10;
      offset = rdataOffset + len;
      if (offset > msg.length) throw new Error('DNS record data runs past the end of the message');
      out.push({
        offset: start,
        end: offset,
        name,
        type,
        klass,
        ttl,
        rdataOffset,
        rdata: msg.subarray(rdataOffset, offset),
      });
    }
    return out;
  };
  const answers = section(counts[1]);
  const authorities = section(counts[2]);
  const additionals = section(counts[3]);
  return { questions, answers, authorities, additionals };
}

/** Target name of an NS record, or the MNAME of an SOA (compression pointers resolved in `msg`). */
export function rdataName(msg: Buffer, record: RecordView): string {
  return decodeName(msg, record.rdataOffset).name.replace(/\.$/, '');
}
