import type { Readable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { FileChecks } from './file-checks';
import { InspectedStream } from './inspected-stream';
import type { OutgoingFile } from './outgoing-file';
import type { PreparedUpload } from './prepared-upload';
import { pump } from './pump';
import { RunningSha256 } from './running-sha256';
import { preparedSizedUpload } from './sized-upload';
import { Spool } from './spool';

/**
 * Buffered mode: spool the whole file first (memory, then a temp file), checking it on the way (and
 * hashing it when `hash` says the checksum will be needed: a keyed upload's record, a direct upload),
 * then send it with its exact size and checksum. HeyGen's side does not depend on the client's
 * speed, a direct upload gets what it must announce, and a failed attempt can be resent from the spool.
 */
export async function spoolUpload(
  file: Readable,
  checks: FileChecks,
  outgoing: OutgoingFile,
  spoolDirectory: string,
  upstream: Upstream,
  hashOnTheWay: boolean,
): Promise<PreparedUpload> {
  const spool = new Spool(spoolDirectory);
  const hash = hashOnTheWay ? new RunningSha256() : undefined;
  try {
    await pump(file, new InspectedStream(hash === undefined ? checks.inspectors : [...checks.inspectors, hash]), spool);
  } catch (error) {
    await spool.dispose();
    throw error;
  }
  const measured = { size: checks.budget.bytes, sha256: hash?.hex };
  return preparedSizedUpload(outgoing, measured, () => spool.body(), upstream, () => spool.dispose());
}
