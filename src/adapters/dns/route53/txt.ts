/**
 * TXT values as Route 53 stores them: RFC 1035 character-strings, quoted, at most 255 characters
 * each, with `"` and `\` escaped (and `\ddd` octal escapes in what others wrote).
 */

const TXT_CHUNK = 255;

export function normalizeName(name: string): string {
  // Route 53 returns names with a trailing dot and escapes such as \052 for '*'.
  return name
    .replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
    .replace(/\.$/, '')
    .toLowerCase();
}

/** `"value"`, split into 255-character strings, with `"` and `\` escaped (RFC 1035 character-strings). */
export function quoteTxt(value: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < value.length || i === 0; i += TXT_CHUNK) chunks.push(value.slice(i, i + TXT_CHUNK));
  return chunks.map((c) => `"${c.replace(/[\\"]/g, (m) => `\\${m}`)}"`).join(' ');
}

/**
 * The character-strings of a Route 53 TXT value (`"a" "b"`, with \" \\ and \ddd escapes), as bytes.
 * A value without quotes is one string as written. Also what a DNS server answers for the value.
 */
export function txtCharacterStrings(raw: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of raw.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const bytes: number[] = [];
    const chars = [...(m[1] as string)];
    for (let i = 0; i < chars.length; i++) {
      const octal = chars.slice(i + 1, i + 4).join('');
      if (chars[i] === '\\' && /^[0-7]{3}$/.test(octal)) {
        bytes.push(Number.parseInt(octal, 8));
        i += 3;
      } else {
        bytes.push(...Buffer.from(chars[i] === '\\' ? (chars[++i] ?? '') : (chars[i] as string), 'utf8'));
      }
    }
    out.push(Buffer.from(bytes));
  }
  return out.length > 0 ? out : [Buffer.from(raw)];
}

/** Inverse of `quoteTxt`, also for values written by others (several strings, \ddd octal escapes). */
export function parseTxt(raw: string): string {
  return Buffer.concat(txtCharacterStrings(raw)).toString('utf8');
}
