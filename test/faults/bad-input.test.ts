// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template

import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as runAction } from '../../src/entrypoints/action/main.js';
import { tempDir } from '../support/certkeeper.js';

/**
 * Malformed GitHub Action inputs, through the Action's own input → config path, in process:
 * `run()` of src/entrypoints/action/main.ts reads the INPUT_* variables as the runner sets them
 * (with action.yml's defaults), turns the one-certificate inputs into a raw config, validates it,
 * and fails the step. Each must end as a config error (exit status 2) that names the input it
 * came from — and before any network call: every endpoint points at a trap that records
 * connections, and every socket connect in this process is recorded too.
 */

let trap: Server;
let trapUrl: string;
const trapped: string[] = [];
const connects: string[] = [];
let workspace: string;

beforeAll(async () => {
  trap = createServer((socket) => {
    trapped.push(`${socket.remoteAddress}:${socket.remotePort}`);
    socket.destroy();
  });
  await new Promise<void>((ok) => trap.listen(0, '127.0.0.1', () => ok()));
  trapUrl = `127.0.0.1:${(trap.address() as AddressInfo).port}`;
  workspace = await tempDir('ck-badinput-');
  // Any connection attempt from this process, wherever it goes (fetch, the AWS SDK, acme-client's axios).
  const original = Socket.prototype.connect;
  vi.spyOn(Socket.prototype, 'connect').mockImplementation(function (this: Socket, ...args: unknown[]) {
    connects.push(JSON.stringify(args[0]) ?? String(args[0]));
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await new Promise<void>((ok) => trap.close(() => ok()));
});

afterEach(() => {
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

/** What the runner sets: action.yml's defaults, plus the workspace's environment. */
const DEFAULTS: Record<string, string> = {
  config: 'certkeeper.yml',
  'dry-run': 'false',
  force: 'false',
  only: '',
  'fail-on': 'error',
  'acme-directory': 'letsencrypt',
  'dns-provider': 'route53',
  'renew-before': '33%',
  'key-type': 'ec-p256',
};

/** Runs the Action with `inputs` over the defaults; returns the failure text and the exit status. */
async function action(inputs: Record<string, string>): Promise<{ failure: string; exitCode: number | undefined }> {
  const all = { ...DEFAULTS, config: join(workspace, 'missing.yml'), domains: 'ok.example.com', ...inputs };
  for (const [name, value] of Object.entries(all)) vi.stubEnv(`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value);
  // Every place a network call could go: the trap.
  vi.stubEnv('AWS_ENDPOINT_URL', `http://${trapUrl}`);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('GITHUB_API_URL', `http://${trapUrl}`);
  vi.stubEnv('HTTPS_PROXY', `http://${trapUrl}`);
  vi.stubEnv('HTTP_PROXY', `http://${trapUrl}`);
  vi.stubEnv('GITHUB_OUTPUT', '');
  vi.stubEnv('GITHUB_STEP_SUMMARY', '');
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await runAction(process.env);
  } finally {
    write.mockRestore();
  }
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
  process.exitCode = undefined;
  // Workflow commands escape newlines as %0A (and % as %25).
  const failure = out
    .filter((l) => l.startsWith('::error'))
    .map((l) =>
      l
        .replace(/^::error[^:]*::/, '')
        .replace(/%0A/g, '\n')
        .replace(/%0D/g, '\r')
        .replace(/%25/g, '%'),
    )
    .join('\n');
  return { failure, exitCode };
}

const many = Array.from({ length: 101 }, (_, i) => `n${i}.example.com`).join(',');

/** [what, inputs, the path the error must name, what it must say]. */
const CASES: [string, Record<string, string>, string, RegExp][] = [
  ['underscore in a domain', { domains: 'bad_name.example.com' }, 'input domains[0]', /underscores/],
  [
    'a wildcard that is not the whole leftmost label',
    { domains: 'ok.example.com, foo*.example.com' },
    'input domains[1]',
    /wildcard/i,
  ],
  ['a wildcard in the middle', { domains: 'foo.*.example.com' }, 'input domains[0]', /wildcard/i],
  ['two wildcards', { domains: '*.*.example.com' }, 'input domains[0]', /wildcard/i],
  ['a single label', { domains: 'localhost' }, 'input domains[0]', /label/i],
  ['an IP address', { domains: '192.0.2.1' }, 'input domains[0]', /IP/],
  ['a duplicate after lowercasing', { domains: 'a.example.com,A.Example.COM' }, 'input domains', /duplicate/i],
  ['101 names', { domains: many }, 'input domains', /100/],
  ['a label over 63 characters', { domains: `${'a'.repeat(64)}.example.com` }, 'input domains[0]', /63/],
  ['a leading hyphen', { domains: '-lead.example.com' }, 'input domains[0]', /hyphen/i],
  [
    'an unset ${env:…} in a domain',
    { domains: '${env:CK_UNSET_DOMAIN}' },
    'input domains[0]',
    /CK_UNSET_DOMAIN is not set/,
  ],
  ['an email that is not one', { email: 'not-an-email' }, 'input email', /email/i],
  ['an http ACME directory', { 'acme-directory': 'http://ca.example.com/directory' }, 'input acme-directory', /https/],
  [
    'an ACME directory alias with a typo',
    { 'acme-directory': 'letsencrypt-stagin' },
    'input acme-directory',
    /or an https URL/,
  ],
  ['an unknown DNS provider', { 'dns-provider': 'no-such-dns' }, 'input dns-provider', /route53/],
  ['a malformed hosted zone id', { 'hosted-zone-id': 'not a zone' }, 'input hosted-zone-id', /hosted zone id/],
  [
    'a hosted zone id for challtestsrv',
    { 'dns-provider': 'challtestsrv', 'hosted-zone-id': 'Z123' },
    'input hosted-zone-id',
    /only for dns-provider route53/,
  ],
  ['a secret id with spaces', { 'secret-id': 'my secret!' }, 'input secret-id', /secret name/],
  ['renew-before in words', { 'renew-before': 'soon' }, 'input renew-before', /days left/],
  ['renew-before over 100%', { 'renew-before': '150%' }, 'input renew-before', /between 0% and 100%/],
  ['renew-before of zero days', { 'renew-before': '0d' }, 'input renew-before', /greater than zero/],
  ['an RSA key too small', { 'key-type': 'rsa-1024' }, 'input key-type', /ec-p256/],
  ['an unsupported key type', { 'key-type': 'ed25519' }, 'input key-type', /ec-p256/],
  ['fail-on not a known value', { 'fail-on': 'always' }, 'input fail-on', /error, warning or never/],
  ['only with unknown ids', { only: 'www, api' }, 'input only', /no certificate with id "www", "api"/],
  ['dry-run not a boolean', { 'dry-run': 'yes' }, 'input dry-run', /true or false/],
  ['force not a boolean', { force: '1' }, 'input force', /true or false/],
  ['an id with capitals and spaces', { id: 'Bad ID!' }, 'input id', /must match/],
];

describe('faults: malformed Action inputs', () => {
  it.each(CASES)('%s → a config error naming it, no network call', async (_what, inputs, path, says) => {
    const before = { trapped: trapped.length, connects: connects.length };
    const { failure, exitCode } = await action(inputs);
    expect(exitCode, failure).toBe(2);
    expect(failure).toMatch(/^certkeeper: invalid configuration:/);
    const line = failure.split('\n').find((l) => l.trim().startsWith(`${path}`));
    expect(line, failure).toBeDefined();
    expect(line).toMatch(says);
    expect(trapped.slice(before.trapped)).toEqual([]);
    expect(connects.slice(before.connects)).toEqual([]);
  });

  it('no domains and no config file: the error names the config file', async () => {
    const { failure, exitCode } = await action({ domains: '' });
    expect(exitCode).toBe(2);
    expect(failure).toContain(`${join(workspace, 'missing.yml')}: config file not found`);
    expect(connects).toEqual([]);
  });

  it('a config file with a typo: the error names its path in the file', async () => {
    const path = join(workspace, 'certkeeper.yml');
    await writeFile(
      path,
      'version: 1\nacme: { directory: letsencrypt-staging }\nrenewal: { renewbefore: 30d }\ncertificates:\n  - { id: a, domains: [a.example.com] }\n',
    );
    const { failure, exitCode } = await action({ config: path, domains: '' });
    expect(exitCode).toBe(2);
    expect(failure).toMatch(/renewal.*renewbefore/);
    expect(connects).toEqual([]);
    expect(trapped).toEqual([]);
  });

  it('the sanity check: the trap does see a connection when one is made', async () => {
    const socket = new Socket();
    await new Promise<void>((ok) => {
      socket.on('error', () => ok());
      socket.connect(Number(trapUrl.split(':')[1]), '127.0.0.1', () => ok());
    });
    socket.destroy();
    expect(connects.length).toBe(1);
    connects.length = 0;
  });
});
