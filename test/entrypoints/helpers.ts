import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import * as YAML from 'yaml';
import { childEnv, type SharedStack } from '../support/stack.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ACTION_BUNDLE = join(ROOT, 'dist/action/index.js');
export const LAMBDA_BUNDLE = join(ROOT, 'dist/lambda/index.mjs');

/**
 * The Node 24 binary the runner uses for `runs.using: node24`, found once by the global setup
 * (npx caches it). The current Node, loudly, where node@24 cannot be had.
 */
export async function nodeBinary(): Promise<{ path: string; version: string; fallback: boolean }> {
  return inject('node24');
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A child process with only the environment given (the runner and Lambda give their own, not ours). */
export async function runNode(
  args: string[],
  opts: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<ProcessResult> {
  const { path } = await nodeBinary();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(path, args, {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

let counter = 0;
/** A zone of its own per test: the challtestsrv is shared by every test file. */
export function uniqueZone(tag: string): string {
  counter++;
  return `${tag}${process.pid}x${counter}x${Math.random().toString(36).slice(2, 7)}.example.com`;
}

/** A raw config for the shared local stack: challtestsrv DNS, file store in `dir`. */
export function localConfig(
  stack: SharedStack,
  dir: string,
  certificates: Record<string, unknown>[],
): Record<string, unknown> {
  return {
    version: 1,
    acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, email: 'ops@example.com' },
    defaults: {
      dns: {
        provider: 'challtestsrv',
        url: stack.challtestsrvUrl,
        propagation: { resolvers: [stack.dnsResolver], timeout: '20s', interval: '100ms' },
      },
      store: { type: 'file', dir },
    },
    certificates,
  };
}

/** The action's inputs with their defaults, as the runner sets them (`INPUT_<NAME>`, hyphens kept). */
export async function actionDefaults(): Promise<Record<string, string>> {
  const action = YAML.parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  const env: Record<string, string> = {};
  for (const [name, input] of Object.entries(action.inputs)) {
    if (input.default !== undefined) env[`INPUT_${name.toUpperCase()}`] = String(input.default);
  }
  return env;
}

export interface ActionRun extends ProcessResult {
  outputs: Record<string, string>;
  summary: string;
  /** Every byte the step left where a user could read it. */
  everything: string;
}

/**
 * Runs dist/action/index.js as the runner does: `node <main>` in the workspace, inputs as
 * INPUT_* (defaults included), and the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files.
 */
export async function runAction(
  workspace: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  const files = await tempDir('ck-runner-');
  const paths = {
    GITHUB_OUTPUT: join(files, 'output'),
    GITHUB_STEP_SUMMARY: join(files, 'summary'),
    GITHUB_STATE: join(files, 'state'),
    GITHUB_ENV: join(files, 'env'),
    GITHUB_PATH: join(files, 'path'),
  };
  for (const p of Object.values(paths)) await writeFile(p, '');
  const inputEnv: Record<string, string> = { ...(await actionDefaults()) };
  for (const [name, value] of Object.entries(inputs)) inputEnv[`INPUT_${name.toUpperCase()}`] = value;
  const result = await runNode([ACTION_BUNDLE], {
    cwd: workspace,
    env: {
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_RUN_ID: '4242',
      GITHUB_REPOSITORY: 'acme/infra',
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: files,
      ...paths,
      ...inputEnv,
      ...env,
    },
  });
  const outputText = await readFile(paths.GITHUB_OUTPUT, 'utf8');
  const summary = await readFile(paths.GITHUB_STEP_SUMMARY, 'utf8');
  const extra = (await Promise.all([paths.GITHUB_STATE, paths.GITHUB_ENV].map((p) => readFile(p, 'utf8')))).join('');
  return {
    ...result,
    outputs: parseOutputFile(outputText),
    summary,
    everything: [result.stdout, result.stderr, outputText, summary, extra].join('\n'),
  };
}

/** GITHUB_OUTPUT's format: `name<<DELIMITER\nvalue\nDELIMITER\n`, as @actions/core writes it. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1] as string] = m[3] as string;
  return out;
}

/** The base64 body lines of a PEM (what must never appear unmasked). */
export function pemBodyLines(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'));
}

/** How often `needle` occurs in `haystack`. */
export function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** The private keys a file store holds: every certificate's privkey.pem and the ACME account keys. */
export async function storedKeys(dir: string): Promise<{ name: string; pem: string }[]> {
  const keys: { name: string; pem: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '_account') {
      for (const f of await readdir(join(dir, '_account'))) {
        if (!f.endsWith('.json')) continue;
        const account = JSON.parse(await readFile(join(dir, '_account', f), 'utf8')) as { accountKey: string };
        keys.push({ name: `account ${f}`, pem: account.accountKey });
      }
    } else if (!entry.name.startsWith('.') && !entry.name.endsWith('.lock')) {
      try {
        keys.push({ name: entry.name, pem: await readFile(join(dir, entry.name, 'privkey.pem'), 'utf8') });
      } catch {
        // not a certificate directory
      }
    }
  }
  return keys;
}

const LAMBDA_RUNNER = `
import { writeFileSync } from 'node:fs';
const handler = (await import(process.env.CK_BUNDLE))[process.env.CK_HANDLER];
const event = JSON.parse(process.env.CK_EVENT);
const remaining = Number(process.env.CK_REMAINING_MS);
const deadline = Date.now() + remaining;
const context = {
  awsRequestId: process.env.CK_REQUEST_ID,
  functionName: 'certkeeper',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:certkeeper',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
let outcome;
try {
  outcome = { ok: true, value: await handler(event, context) };
} catch (error) {
  outcome = { ok: false, name: error.name, message: error.message };
}
writeFileSync(process.env.CK_OUTCOME, JSON.stringify(outcome));
`;

export interface LambdaRun extends ProcessResult {
  outcome:
    | { ok: true; value: { results: Record<string, unknown>[]; [key: string]: unknown } }
    | { ok: false; name: string; message: string };
  /** stdout and stderr lines that are JSON (Powertools logs and EMF). */
  lines: Record<string, unknown>[];
  emf: Record<string, unknown>[];
}

/** Imports dist/lambda/index.mjs in a fresh Node 24 process and invokes one handler (`handler` unless named) once, as the runtime would. */
export async function invokeLambda(
  event: unknown,
  env: Record<string, string>,
  opts: { remainingMs?: number; requestId?: string; cwd?: string; handler?: string } = {},
): Promise<LambdaRun> {
  const dir = await tempDir('ck-lambda-');
  const runner = join(dir, 'invoke.mjs');
  const outcomePath = join(dir, 'outcome.json');
  await writeFile(runner, LAMBDA_RUNNER);
  const result = await runNode([runner], {
    cwd: opts.cwd ?? dir,
    env: {
      CK_BUNDLE: LAMBDA_BUNDLE,
      CK_HANDLER: opts.handler ?? 'handler',
      CK_EVENT: JSON.stringify(event),
      CK_REMAINING_MS: String(opts.remainingMs ?? 900_000),
      CK_REQUEST_ID: opts.requestId ?? 'c0ffee00-0000-4000-8000-000000000001',
      CK_OUTCOME: outcomePath,
      AWS_LAMBDA_FUNCTION_NAME: 'certkeeper',
      ...env,
    },
  });
  let outcome: LambdaRun['outcome'];
  try {
    outcome = JSON.parse(await readFile(outcomePath, 'utf8'));
  } catch {
    throw new Error(`the handler did not finish (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  // Powertools writes WARN and ERROR to stderr, the rest and EMF to stdout; Lambda sends both to CloudWatch.
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...result, outcome, lines, emf: lines.filter((l) => '_aws' in l) };
}

/** An EventBridge Scheduler invocation as delivered with the classic event envelope. */
export function schedulerEvent(detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: 'a1b2c3d4-0000-4000-8000-000000000000',
    'detail-type': 'Scheduled Event',
    source: 'aws.scheduler',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule/default/certkeeper'],
    detail,
  };
}
