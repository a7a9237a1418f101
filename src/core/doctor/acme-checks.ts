import type { ErrorInfo } from '../../ports/errors.js';
import type { AcmeAccount } from '../../ports/store.js';
import type { AccountStatus, AcmeDirectory } from '../acme.js';
import { fail, pass, skip, type Verdict, warn } from './report.js';

/** The decisions of `acme.directory` and `acme.account` (PRODUCT §5), over gathered facts. Pure. */

const TLS_CODES =
  /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME|CERT_UNTRUSTED|certificate/i;

export type DirectoryFacts =
  | { ok: true; directory: AcmeDirectory }
  | {
      ok: false;
      error: ErrorInfo;
      /** The error code of the innermost cause (e.g. SELF_SIGNED_CERT_IN_CHAIN, ECONNREFUSED). */
      code?: string;
    };

export interface DirectoryNeeds {
  url: string;
  /** `renewal.ari`. */
  ari: boolean;
  /** Every profile the config names (acme.profile and the certificates' own). */
  profiles: string[];
  eab: boolean;
  /** Whether an account is stored already (EAB is needed only to register one). */
  accountStored: boolean;
}

export function decideDirectory(facts: DirectoryFacts, needs: DirectoryNeeds): Verdict {
  if (!facts.ok) {
    const tls = TLS_CODES.test(facts.code ?? '') || TLS_CODES.test(facts.error.message);
    return fail(
      `${needs.url} does not answer${tls ? ' over verified TLS' : ''}: ${facts.error.message.replace(/^acme: /, '')}`,
      tls
        ? "the directory's TLS certificate is not trusted: set acme.caBundle to a PEM file with its CA (a private CA), or fix the URL"
        : (facts.error.hint ?? `check acme.directory (${needs.url}) and connectivity to it`),
    );
  }
  const dir = facts.directory;
  const failures: Verdict[] = [];
  const warnings: Verdict[] = [];
  const offers: string[] = ['answers over verified TLS'];

  if (dir.externalAccountRequired) {
    if (needs.eab) offers.push('EAB required and configured');
    else if (needs.accountStored) offers.push('EAB required (the stored account needs none)');
    else {
      failures.push(
        fail(
          'the CA requires external account binding and acme.eab is not set: registering the account will fail',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${env:…} syntax, shown to the user
          'set acme.eab: { kid: "${env:EAB_KID}", hmacKey: "${env:EAB_HMAC_KEY}" } with the values from the CA',
        ),
      );
    }
  }
  for (const profile of needs.profiles) {
    if (!dir.profiles) {
      warnings.push(
        warn(
          `the CA lists no profiles, so it may ignore profile "${profile}"`,
          'check that the CA supports ACME profiles, or remove acme.profile',
        ),
      );
    } else if (!Object.hasOwn(dir.profiles, profile)) {
      const offered = Object.keys(dir.profiles);
      failures.push(
        fail(
          `the CA offers no profile "${profile}" (it offers ${offered.join(', ') || 'none'}): every order would fail`,
          `set acme.profile (or the certificate's profile) to one of: ${offered.join(', ')}`,
        ),
      );
    } else offers.push(`profile ${profile}`);
  }
  if (needs.ari) {
    if (dir.renewalInfo) offers.push('renewalInfo (ARI)');
    else {
      warnings.push(
        warn(
          'the CA offers no renewalInfo (ARI), which renewal.ari relies on: renewals follow the threshold alone',
          'nothing breaks; set renewal.ari: false to say so',
        ),
      );
    }
  }
  const bad = failures.length ? failures : warnings;
  if (bad.length) {
    return {
      status: bad[0]?.status ?? 'warn',
      message: `${needs.url}: ${bad.map((v) => v.message).join('; ')}`,
      hint: bad.map((v) => v.hint).join('; '),
    };
  }
  return pass(`${needs.url} ${offers.join(', ')}`);
}

export type AccountFacts =
  | { kind: 'store-error'; ref: string; error: ErrorInfo }
  | { kind: 'none'; ref: string }
  | {
      kind: 'stored';
      ref: string;
      account: Pick<AcmeAccount, 'accountUrl'>;
      /** What the CA said, or why it could not be asked (a network error). */
      status: AccountStatus | { ok: 'unreachable'; error: ErrorInfo };
    }
  /** Stored, but the directory did not answer, so the CA was not asked. */
  | { kind: 'unasked'; ref: string; account: Pick<AcmeAccount, 'accountUrl'> };

export function decideAccount(facts: AccountFacts, directoryUrl: string): Verdict {
  switch (facts.kind) {
    case 'store-error':
      return fail(
        `cannot read the ACME account from ${facts.ref}: ${facts.error.message}`,
        facts.error.hint ?? 'check the store of the first certificate: the account is kept there',
      );
    case 'none':
      return warn(
        `no ACME account is stored in ${facts.ref} for ${directoryUrl}: a run registers one`,
        'nothing to do; a first run registers and stores it (or run certkeeper once now)',
      );
    case 'unasked':
      return skip(`account ${facts.account.accountUrl} is stored; the CA was not asked (its directory did not answer)`);
    case 'stored': {
      const url = facts.account.accountUrl;
      const s = facts.status;
      if (s.ok === 'unreachable') {
        return warn(`could not ask the CA about account ${url}: ${s.error.message}`, s.error.hint ?? '');
      }
      if (s.ok) {
        if (s.status === 'valid') return pass(`account ${url} is valid at the CA`);
        return fail(
          `the CA reports account ${url} as ${s.status}: it can order nothing`,
          `delete the stored account (${facts.ref}) so that the next run registers a new one`,
        );
      }
      const problem = s.error.problemType ?? '';
      if (problem.endsWith(':accountDoesNotExist')) {
        return warn(
          `the CA does not know account ${url}: the next run registers a new one and replaces it`,
          'nothing to do, unless CAA accounturi records name the old account: update them after that run',
        );
      }
      if (problem.endsWith(':unauthorized') || s.error.status === 403) {
        return fail(
          `the CA refuses account ${url}: ${s.error.message.replace(/^acme: read account: /, '')}`,
          `the account is deactivated or revoked: delete it from the store (${facts.ref}) so that the next run registers a new one`,
        );
      }
      if (s.error.errorClass === 'network' || s.error.errorClass === 'timeout') {
        return warn(`could not ask the CA about account ${url}: ${s.error.message}`, s.error.hint ?? '');
      }
      return fail(`the CA answers for account ${url}: ${s.error.message}`, s.error.hint ?? 'check the stored account');
    }
  }
}
