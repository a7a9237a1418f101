/**
 * Import (PRODUCT §6): readers of other ACME clients' on-disk layouts. A reader only finds and
 * reads files; the core (`src/core/import.ts`) checks what it found, matches it to the config and
 * writes it through the CertificateStore port. Readers live in `src/adapters/import/<tool>/`.
 */

export type ImportTool = 'certbot' | 'lego' | 'acme.sh' | 'pem';

/** What the tool's own metadata says about a certificate. Never key material. */
export interface ToolMetadata {
  /** The ACME directory the tool used (certbot `server`, acme.sh `Le_API`). */
  server?: string;
  /** The key type in the tool's words (certbot `ecdsa`, acme.sh `ec-256`, …). */
  keyType?: string;
  /** Names the tool lists for it; the certificate's own SAN decides. */
  domains?: string[];
  /** Other facts worth showing, e.g. the archive file certbot's live link points at. */
  [key: string]: string | string[] | undefined;
}

/**
 * One certificate another tool keeps, as found on disk. It carries the private key: the core only
 * checks it and hands it to a store; nothing may print it.
 */
export interface FoundCertificate {
  /** The tool's name for it: certbot's lineage, lego's and acme.sh's main domain, pem's file name. */
  name: string;
  /** The directory or file it was read from. */
  source: string;
  /** The certificate file as the tool wrote it: the leaf first, maybe followed by its chain. */
  certificate: string;
  /** The tool's separate chain file (intermediates); empty when it keeps none. */
  chain: string;
  privateKey: string;
  metadata: ToolMetadata;
}

/** An entry that looked like the tool's but could not be read (a missing file, a dangling link). */
export interface UnreadableEntry {
  name: string;
  source: string;
  reason: string;
}

export interface ImportScan {
  found: FoundCertificate[];
  unreadable: UnreadableEntry[];
}

export type ReaderInput = { path: string } | { cert: string; key: string; chain?: string };

/** A reader of one tool's layout, opened on one path. */
export interface CertificateReader {
  readonly tool: ImportTool;
  /** What the certificates are said to come from, for `issuedBy.runId` (`<tool>:<this>`). */
  readonly origin: string;
  /**
   * Reads every certificate under the path. Throws a `config` CertkeeperError when the path is not
   * this tool's layout at all (the usage is wrong); a single broken entry is `unreadable` instead.
   */
  scan(): Promise<ImportScan>;
}

export interface ReaderDescriptor {
  readonly tool: ImportTool;
  /** One line for `--help` and the docs: what path it takes. */
  readonly doc: string;
  open(input: ReaderInput): Promise<CertificateReader>;
}
