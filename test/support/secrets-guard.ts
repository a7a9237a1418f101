import { format } from 'node:util';
import { afterAll, afterEach, beforeEach } from 'vitest';

/**
 * Secrets hygiene for the whole suite (PRODUCT §2: "no event, output, log line or summary ever
 * contains private key material"). Loaded as a vitest `setupFiles` entry, so it runs in every test
 * worker before each test file:
 * - wraps process.stdout.write, process.stderr.write and the console methods, and scans what goes
 *   through them for PEM private key markers and for any line of a registered key; a chunk that
 *   leaks is withheld (a placeholder is printed instead), so CI logs never carry the key;
 * - helpers scan what they capture (run logs, reports, child process output) with `scanForSecrets`;
 * - a test with a hit fails in afterEach; hits outside any test fail the file in afterAll.
 * Reports never repeat the secret: they name where it was seen and show a redacted excerpt.
 */

export interface SecretHit {
  /** Where it was seen: `stdout`, `console.log`, `runLocal log`, … */
  where: string;
  /** The test that was running, or `(outside a test)`. */
  test: string;
  /** What matched: a PEM marker or a registered key line. */
  kind: 'pem-marker' | 'registered-key-line';
  /** The matching text with the secret part redacted. */
  excerpt: string;
}

/** `-----BEGIN PRIVATE KEY-----`, `-----BEGIN EC PRIVATE KEY-----`, `-----BEGIN RSA PRIVATE KEY-----`, … */
const PEM_MARKER = /-----(?:BEGIN|END) (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
/** Registered key lines shorter than this are too likely to occur by chance. */
const MIN_LINE = 16;

const registered = new Set<string>();
const hits: SecretHit[] = [];
let allowed = false;
/** The running test's full name (suites > test), set by this file's beforeEach. */
let running: string | undefined;

function currentTest(): string {
  return running ?? '(outside a test)';
}

/** Registers every body line of a key (or any secret text): from now on they count as leaks. */
export function registerSecret(text: string): void {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length >= MIN_LINE && !line.startsWith('-----')) registered.add(line);
  }
}

function redact(text: string, index: number, length: number): string {
  const start = Math.max(0, index - 20);
  const before = text.slice(start, index).replace(/\s+/g, ' ');
  const after = text.slice(index + length, index + length + 20).replace(/\s+/g, ' ');
  return `${start > 0 ? '…' : ''}${before}[REDACTED ${length} chars]${after}…`;
}

/** Pure check: what in `text` looks like private key material. Records nothing. */
export function findSecrets(text: string): Omit<SecretHit, 'where' | 'test'>[] {
  const found: Omit<SecretHit, 'where' | 'test'>[] = [];
  const marker = PEM_MARKER.exec(text);
  if (marker) found.push({ kind: 'pem-marker', excerpt: redact(text, marker.index, marker[0].length) });
  for (const line of registered) {
    const i = text.indexOf(line);
    if (i >= 0) {
      found.push({ kind: 'registered-key-line', excerpt: redact(text, i, line.length) });
      break;
    }
  }
  return found;
}

/**
 * Scans `text` (anything: JSON.stringify'd if not a string) and records each hit against the
 * running test, unless the test called `allowSecretsInThisTest()`. Returns the hits either way.
 */
export function scanForSecrets(where: string, text: unknown): SecretHit[] {
  const s =
    typeof text === 'string' ? text : text instanceof Uint8Array ? Buffer.from(text).toString() : safeJson(text);
  if (!s) return [];
  const test = currentTest();
  const found = findSecrets(s).map((h) => ({ ...h, where, test }));
  if (!allowed) {
    for (const h of found) {
      if (!hits.some((x) => x.where === h.where && x.test === h.test && x.excerpt === h.excerpt)) hits.push(h);
    }
  }
  return found;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return String(v);
  }
}

/** For a test that prints a key on purpose: its hits are not recorded (until the next test starts). */
export function allowSecretsInThisTest(): void {
  allowed = true;
}

/** Removes and returns the hits recorded against the running test (the guard's own tests). */
export function takeSecretHits(): SecretHit[] {
  const mine = hits.filter((h) => h.test === currentTest());
  for (const h of mine) hits.splice(hits.indexOf(h), 1);
  return mine;
}

/** Throws, naming each hit (redacted), when there are any. */
export function assertNoSecretHits(list: SecretHit[]): void {
  if (list.length === 0) return;
  throw new Error(
    `secrets guard: private key material was printed or captured:\n${list
      .map((h) => `  [${h.test}] in ${h.where} (${h.kind}): ${h.excerpt}`)
      .join('\n')}\n(call allowSecretsInThisTest() in a test that must print a key on purpose)`,
  );
}

/** What is printed instead of a chunk with key material in it: the test fails, the log stays clean. */
function withheld(chunk: unknown): string {
  const length = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk.length : 0;
  return `[secrets guard: ${length} characters withheld, they hold private key material]\n`;
}

/** Wraps a stream's write so every chunk is scanned first (and withheld when it leaks a key). */
export function scanningWrite(
  where: string,
  write: (...args: never[]) => boolean,
): (chunk: unknown, ...rest: unknown[]) => boolean {
  return function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    const out = scanForSecrets(where, chunk).length > 0 && !allowed ? withheld(chunk) : chunk;
    return (write as (...args: unknown[]) => boolean).call(this, out, ...rest);
  };
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const;

let installed = false;
/** Wraps stdout, stderr and console (once per worker). */
export function installSecretsGuard(): void {
  if (installed) return;
  installed = true;
  process.stdout.write = scanningWrite(
    'stdout',
    process.stdout.write.bind(process.stdout),
  ) as typeof process.stdout.write;
  process.stderr.write = scanningWrite(
    'stderr',
    process.stderr.write.bind(process.stderr),
  ) as typeof process.stderr.write;
  for (const method of CONSOLE_METHODS) {
    const original = console[method] as (...args: unknown[]) => void;
    console[method] = ((...args: unknown[]) => {
      const text = format(...args);
      if (scanForSecrets(`console.${method}`, text).length > 0 && !allowed) original.call(console, withheld(text));
      else original.apply(console, args);
    }) as never;
  }
}

installSecretsGuard();

beforeEach(({ task }) => {
  allowed = false;
  running = fullName(task);
});

// Registered first, so (hooks run as a stack) it runs after the test file's own afterEach hooks.
afterEach(() => {
  const name = running;
  running = undefined;
  allowed = false;
  const mine = hits.filter((h) => h.test === name);
  if (mine.length === 0) return;
  for (const h of mine) hits.splice(hits.indexOf(h), 1);
  assertNoSecretHits(mine);
});

afterAll(() => {
  const rest = hits.splice(0);
  assertNoSecretHits(rest);
});

/** `suite > … > test`, as vitest names a test. */
function fullName(task: { name: string; suite?: { name: string; suite?: unknown } | undefined }): string {
  const names: string[] = [task.name];
  let s = task.suite as { name: string; suite?: unknown } | undefined;
  while (s?.name) {
    names.unshift(s.name);
    s = s.suite as { name: string; suite?: unknown } | undefined;
  }
  return names.join(' > ');
}
