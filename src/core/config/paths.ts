/** `["certificates", 2, "domains", 0]` → `certificates[2].domains[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function hasPath(obj: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return false;
    if (!(String(p) in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[String(p)];
  }
  return true;
}

export function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[String(p)];
  }
  return cur;
}

/** `tsig.secret` → ['tsig', 'secret']. */
export function splitDotted(path: string): string[] {
  return path.split('.').filter(Boolean);
}
