import type { ImportTool, ReaderDescriptor } from '../../ports/import.js';
import { acmeShReader } from './acme.sh/descriptor.js';
import { certbotReader } from './certbot/descriptor.js';
import { legoReader } from './lego/descriptor.js';
import { pemReader } from './pem/descriptor.js';

/** Every import reader (PRODUCT §6), one per tool; `certkeeper import --from <tool>` picks one. */
export const IMPORT_READERS: readonly ReaderDescriptor[] = [certbotReader, legoReader, acmeShReader, pemReader];

export function importReader(tool: string): ReaderDescriptor | undefined {
  return IMPORT_READERS.find((r) => r.tool === (tool as ImportTool));
}
