/**
 * Cloudflare's TXT `content` is zone-file text: since its 2024/2025 API changes the reference asks
 * for quoted RFC 1035 character-strings (`"abc" "def"`), and the dashboard flags unquoted content.
 * Unquoted content is still accepted and served as one string, so records written by older tools
 * (or by us before the change) come back unquoted. We write quoted and read both.
 */

/** The content we write for a DNS-01 value (base64url: nothing to escape, far below 255 bytes). */
export function quoteTxt(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The text a resolver sees for `content`: its character-strings joined. */
export function txtText(content: string): string {
  const trimmed = content.trim();
  if (!trimmed.startsWith('"')) return content;
  const bytes: number[] = [];
  let i = 0;
  while (i < trimmed.length) {
    if (trimmed[i] !== '"') {
      i++;
      continue;
    }
    i++;
    while (i < trimmed.length && trimmed[i] !== '"') {
      const c = trimmed[i] as string;
      if (c === '\\') {
        const digits = trimmed.slice(i + 1, i + 4);
        if (/^\d{3}$/.test(digits)) {
          bytes.push(Number.parseInt(digits, 10));
          i += 4;
          continue;
        }
        i++;
        if (i >= trimmed.length) break;
      }
      const cp = trimmed.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
    i++;
  }
  return Buffer.from(bytes).toString('utf8');
}
