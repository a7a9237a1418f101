import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';

const LDH_LABEL = /^[a-z0-9-]+$/;

/** Names in messages are cut so a pathological input cannot flood the output. */
function quote(input: string): string {
  return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
}

/**
 * Normalises one certificate name (lowercase, IDN → punycode) and checks PRODUCT §2's rules:
 * ≤ 253 characters, labels ≤ 63 of letters, digits and inner hyphens, at least two labels, no IP
 * addresses, a wildcard only as the whole leftmost label. A trailing dot (FQDN) is dropped.
 * Returns the normalised name or a message saying what is wrong.
 */
export function normalizeDomain(input: string): { ok: true; value: string } | { ok: false; message: string } {
  const fail = (why: string) => ({ ok: false as const, message: `${quote(input)}: ${why}` });
  let name = input.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { ok: false, message: 'empty domain name' };
  if (isIP(name) || isIP(name.replace(/^\[|\]$/g, ''))) return fail('is an IP address; ACME DNS-01 needs a DNS name');
  if (name === '*') return fail('a wildcard needs a base name, e.g. "*.example.com"');
  const wildcard = name.startsWith('*.');
  const rest = wildcard ? name.slice(2) : name;
  if (rest.includes('*')) return fail('a wildcard is allowed only as the whole leftmost label ("*.example.com")');
  if (rest.includes('_')) return fail('underscores are not allowed in certificate names');
  if (/\s/.test(rest)) return fail('must not contain spaces');

  let ascii = rest;
  if (!/^[\x00-\x7f]*$/.test(rest)) {
    // domainToASCII returns '' for names it cannot convert (invalid IDN, disallowed characters).
    ascii = domainToASCII(rest);
    if (!ascii) return fail('is not a valid internationalised domain name');
    if (isIP(ascii)) return fail('is an IP address; ACME DNS-01 needs a DNS name');
  }

  const labels = ascii.split('.');
  if (labels.some((l) => l.length === 0)) return fail('has an empty label');
  if (labels.length < 2) return fail('needs at least two labels (e.g. "example.com")');
  for (const label of labels) {
    if (label.length > 63) return fail(`label "${label.slice(0, 20)}..." is longer than 63 characters`);
    if (!LDH_LABEL.test(label)) return fail(`label "${label}" may contain only letters, digits and inner hyphens`);
    if (label.startsWith('-') || label.endsWith('-')) {
      return fail(`label "${label}" must not start or end with a hyphen`);
    }
    if (label.startsWith('xn--')) {
      // An A-label must decode to a valid U-label (and that one must follow the hyphen rule too).
      const unicode = domainToASCII(label) === label ? domainToUnicode(label) : '';
      if (!unicode || unicode === label) return fail(`label "${label}" is not a valid internationalised label`);
      if (unicode.startsWith('-') || unicode.endsWith('-')) {
        return fail(`label "${unicode}" must not start or end with a hyphen`);
      }
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1] as string)) return fail('the top-level label cannot be all digits');
  const value = wildcard ? `*.${ascii}` : ascii;
  if (value.length > 253) return fail(`is ${value.length} characters long; at most 253 are allowed`);
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
