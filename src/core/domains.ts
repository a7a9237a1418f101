import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Normalises one certificate name (lowercase, IDN → punycode) and checks PRODUCT §2's rules.
 * Returns the normalised name or a message saying what is wrong.
 */
export function normalizeDomain(input: string): { ok: true; value: string } | { ok: false; message: string } {
  let name = input.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { ok: false, message: 'empty domain name' };
  if (isIP(name) || /^\[.*\]$/.test(name)) return { ok: false, message: `"${input}" is an IP address; ACME DNS-01 needs a DNS name` };
  const wildcard = name.startsWith('*.');
  const rest = wildcard ? name.slice(2) : name;
  if (rest.includes('*')) return { ok: false, message: `"${input}": a wildcard is allowed only as the whole leftmost label ("*.example.com")` };
  if (rest.includes('_')) return { ok: false, message: `"${input}": underscores are not allowed in certificate names` };
  // domainToASCII returns '' for names it cannot convert (invalid IDN, bad characters).
  const ascii = /^[\x00-\x7f]*$/.test(rest) ? rest : domainToASCII(rest);
  if (!ascii) return { ok: false, message: `"${input}" is not a valid internationalised domain name` };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, message: `"${input}" needs at least two labels (e.g. "example.com")` };
  for (const label of labels) {
    if (label.length === 0) return { ok: false, message: `"${input}" has an empty label` };
    if (label.length > 63) return { ok: false, message: `"${input}": label "${label.slice(0, 20)}…" is longer than 63 characters` };
    if (!LABEL.test(label)) {
      return {
        ok: false,
        message: `"${input}": label "${label}" may contain only letters, digits and inner hyphens`,
      };
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1] as string)) {
    return { ok: false, message: `"${input}": the top-level label cannot be all digits` };
  }
  const value = wildcard ? `*.${ascii}` : ascii;
  if (value.length > 253) return { ok: false, message: `"${input.slice(0, 40)}…" is longer than 253 characters` };
  return { ok: true, value };
}

/** `*.example.com` → `example.com`; the name whose `_acme-challenge` label holds the value. */
export function baseDomain(domain: string): string {
  return domain.startsWith('*.') ? domain.slice(2) : domain;
}

export function challengeRecordName(domain: string, alias?: string): string {
  const base = baseDomain(domain);
  return alias ? `_acme-challenge.${base}.${alias}` : `_acme-challenge.${base}`;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
