import {
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * An in-memory Route 53 with AWS's strictness, for what moto cannot do (FACTS): changes stay PENDING
 * for a while, Throttling and PriorRequestNotComplete happen, a DELETE must match the current TTL
 * and values exactly, deleting a missing set or creating an existing one fails, a batch applies
 * all-or-nothing, and ListHostedZonesByName lists from DNSName on in AWS's order (not only exact
 * matches). Served through aws-sdk-client-mock on a real Route53Client.
 */

export interface FakeZone {
  id: string;
  name: string;
  private: boolean;
  nameServers: string[];
  sets: Map<string, { ttl: number; values: string[] }>;
}

export interface FakeOptions {
  /** Fraction of each operation's calls that fail with Throttling / PriorRequestNotComplete (deterministic). */
  faultRate?: number;
  /** GetChange answers PENDING this many times per change before INSYNC. */
  pendingPolls?: number;
}

export class AwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status };
  }
}

const fqdn = (n: string) => `${n.replace(/\.$/, '').toLowerCase()}.`;
const bare = (n: string) => n.replace(/\.$/, '').toLowerCase();
/** AWS orders zones and records by name with labels reversed: com.example.www. */
const reversed = (n: string) => bare(n).split('.').reverse().join('.');

export class FakeRoute53 {
  readonly client = new Route53Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  readonly stub: ReturnType<typeof mockClient>;
  readonly zones = new Map<string, FakeZone>();
  readonly calls: { op: string; input: unknown; fault?: string }[] = [];
  faults = 0;
  /** Runs before a ChangeResourceRecordSets is applied: lets a test play "another process". */
  beforeChange?: (input: ChangeResourceRecordSetsCommandInput) => void;
  /** Make every call of this operation fail (e.g. always Throttling). */
  failAlways?: { op: string; error: () => Error };
  private changes = new Map<string, number>();
  private seq = 0;
  private perOp = new Map<string, number>();

  constructor(private readonly options: FakeOptions = {}) {
    this.stub = mockClient(this.client);
    const wrap =
      <I, O>(op: string, fn: (input: I) => O, faultName = 'Throttling') =>
      async (input: I) => {
        const fault = this.failAlways?.op === op ? this.failAlways.error() : this.maybeFault(op, faultName);
        this.calls.push({ op, input, ...(fault ? { fault: fault.name } : {}) });
        if (fault) throw fault;
        return structuredClone(fn(input));
      };
    // biome-ignore lint/suspicious/noExplicitAny: aws-sdk-client-mock's per-command typing is not needed here.
    const s = this.stub as any;
    s.on(ListHostedZonesByNameCommand).callsFake(wrap('ListHostedZonesByName', (i: never) => this.listZones(i)));
    s.on(GetHostedZoneCommand).callsFake(wrap('GetHostedZone', (i: never) => this.getZone(i)));
    s.on(ListResourceRecordSetsCommand).callsFake(wrap('ListResourceRecordSets', (i: never) => this.listSets(i)));
    s.on(ChangeResourceRecordSetsCommand).callsFake(
      wrap(
        'ChangeResourceRecordSets',
        (i: ChangeResourceRecordSetsCommandInput) => this.change(i),
        'PriorRequestNotComplete',
      ),
    );
    s.on(GetChangeCommand).callsFake(wrap('GetChange', (i: { Id: string }) => this.getChange(i)));
  }

  addZone(name: string, opts: { private?: boolean } = {}): FakeZone {
    const id = `Z${String(++this.seq).padStart(6, '0')}FAKE`;
    const zone: FakeZone = {
      id,
      name: fqdn(name),
      private: opts.private ?? false,
      nameServers: opts.private ? [] : [`ns-1.fake-${id.toLowerCase()}.net`, `ns-2.fake-${id.toLowerCase()}.org`],
      sets: new Map(),
    };
    this.zones.set(id, zone);
    return zone;
  }

  /** Values at `name` in `zone` as written (quoted), [] if none. */
  raw(zone: FakeZone, name: string): string[] {
    return zone.sets.get(fqdn(name))?.values ?? [];
  }

  count(op: string): number {
    return this.calls.filter((c) => c.op === op && !c.fault).length;
  }

  private maybeFault(op: string, name: string): Error | undefined {
    const rate = this.options.faultRate ?? 0;
    const i = this.perOp.get(op) ?? 0;
    this.perOp.set(op, i + 1);
    // Evenly spread, per operation: with 1/3, every third call of each operation fails.
    if (Math.floor((i + 1) * rate) <= Math.floor(i * rate)) return undefined;
    this.faults++;
    return name === 'PriorRequestNotComplete'
      ? new AwsError(name, 'The request was rejected because Route 53 was still processing a prior request.')
      : new AwsError('Throttling', 'Rate exceeded');
  }

  private zone(id: string | undefined): FakeZone {
    const zone = this.zones.get((id ?? '').replace(/^\/hostedzone\//, ''));
    if (!zone) throw new AwsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
    return zone;
  }

  private listZones(input: { DNSName?: string; HostedZoneId?: string; MaxItems?: number }) {
    const all = [...this.zones.values()].sort(
      (a, b) => reversed(a.name).localeCompare(reversed(b.name)) || a.id.localeCompare(b.id),
    );
    let from = input.DNSName ? all.findIndex((z) => reversed(z.name) >= reversed(input.DNSName as string)) : 0;
    if (from < 0) from = all.length;
    if (input.HostedZoneId) {
      const at = all.findIndex((z, i) => i >= from && z.id === input.HostedZoneId);
      if (at >= 0) from = at;
    }
    const max = input.MaxItems ?? 100;
    const page = all.slice(from, from + max);
    const next = all[from + max];
    return {
      HostedZones: page.map((z) => ({
        Id: `/hostedzone/${z.id}`,
        Name: z.name,
        CallerReference: z.id,
        Config: { PrivateZone: z.private },
      })),
      DNSName: input.DNSName,
      IsTruncated: next !== undefined,
      MaxItems: max,
      ...(next ? { NextDNSName: next.name, NextHostedZoneId: next.id } : {}),
    };
  }

  private getZone(input: { Id: string }) {
    const z = this.zone(input.Id);
    return {
      HostedZone: {
        Id: `/hostedzone/${z.id}`,
        Name: z.name,
        CallerReference: z.id,
        Config: { PrivateZone: z.private },
      },
      ...(z.private
        ? { VPCs: [{ VPCId: 'vpc-1', VPCRegion: 'us-east-1' }] }
        : { DelegationSet: { NameServers: z.nameServers } }),
    };
  }

  private listSets(input: {
    HostedZoneId: string;
    StartRecordName?: string;
    StartRecordType?: string;
    MaxItems?: number;
  }) {
    const z = this.zone(input.HostedZoneId);
    const sets: ResourceRecordSet[] = [...z.sets.entries()]
      .map(([name, s]) => ({
        Name: name,
        Type: 'TXT' as const,
        TTL: s.ttl,
        ResourceRecords: s.values.map((Value) => ({ Value })),
      }))
      .sort((a, b) => reversed(a.Name).localeCompare(reversed(b.Name)));
    const start = input.StartRecordName ? reversed(input.StartRecordName) : '';
    const from = sets.filter((s) => reversed(s.Name as string) >= start);
    return {
      ResourceRecordSets: from.slice(0, input.MaxItems ?? 300),
      IsTruncated: from.length > (input.MaxItems ?? 300),
    };
  }

  private change(input: ChangeResourceRecordSetsCommandInput) {
    this.beforeChange?.(input);
    const z = this.zone(input.HostedZoneId);
    const next = new Map([...z.sets].map(([k, v]) => [k, { ttl: v.ttl, values: [...v.values] }]));
    for (const c of input.ChangeBatch?.Changes ?? []) {
      const rr = c.ResourceRecordSet as ResourceRecordSet;
      const name = fqdn(rr.Name as string);
      if (!name.endsWith(z.name))
        throw new AwsError('InvalidChangeBatch', `RRSet with DNS name ${name} is not permitted in zone ${z.name}`);
      if (rr.Type !== 'TXT') throw new AwsError('InvalidChangeBatch', 'this fake only holds TXT records');
      const values = (rr.ResourceRecords ?? []).map((r) => r.Value as string);
      const where = `[name='${name}', type='TXT']`;
      const cur = next.get(name);
      if (c.Action === 'CREATE') {
        if (cur)
          throw new AwsError(
            'InvalidChangeBatch',
            `[Tried to create resource record set ${where} but it already exists]`,
          );
        next.set(name, { ttl: rr.TTL as number, values });
      } else if (c.Action === 'DELETE') {
        if (!cur)
          throw new AwsError(
            'InvalidChangeBatch',
            `[Tried to delete resource record set ${where} but it was not found]`,
          );
        const same = cur.ttl === rr.TTL && [...cur.values].sort().join('\n') === [...values].sort().join('\n');
        if (!same) {
          throw new AwsError(
            'InvalidChangeBatch',
            `[Tried to delete resource record set ${where} but the values provided do not match the current values]`,
          );
        }
        next.delete(name);
      } else {
        next.set(name, { ttl: rr.TTL as number, values });
      }
    }
    z.sets = next;
    const id = `C${String(++this.seq).padStart(8, '0')}`;
    this.changes.set(id, this.options.pendingPolls ?? 0);
    return { ChangeInfo: { Id: `/change/${id}`, Status: 'PENDING', SubmittedAt: new Date(0) } };
  }

  private getChange(input: { Id: string }) {
    const id = input.Id.replace(/^\/change\//, '');
    const left = this.changes.get(id);
    if (left === undefined) throw new AwsError('NoSuchChange', `Could not find resource with ID: ${id}`, 404);
    this.changes.set(id, left - 1);
    return { ChangeInfo: { Id: `/change/${id}`, Status: left > 0 ? 'PENDING' : 'INSYNC', SubmittedAt: new Date(0) } };
  }
}
