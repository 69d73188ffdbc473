import { type Readable, Writable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { ChunkInspector } from './chunk-inspector';
import type { FileChecks } from './file-checks';
import { InspectedStream } from './inspected-stream';
import type { OutgoingFile } from './outgoing-file';
import type { PreparedUpload } from './prepared-upload';
import { pump } from './pump';
import { RunningSha256 } from './running-sha256';
import { preparedSizedUpload } from './sized-upload';

/**
 * A file an intake has already stored whole (a finished resumable upload): there is nothing to spool.
 * One pass checks it (type, size, structure) and measures and hashes it, keeping none of it; each send
 * attempt then reads the stored file again (`reopen`), so no second copy is ever written.
 */
export async function checkStoredUpload(
  file: Readable,
  checks: FileChecks,
  outgoing: OutgoingFile,
  reopen: () => Readable,
  upstream: Upstream,
): Promise<PreparedUpload> {
  const hash = new RunningSha256();
  await readThrough(file, [...checks.inspectors, hash]);
  const measured = { size: checks.budget.bytes, sha256: hash.hex };
  // The intake owns the stored file: there is nothing here to free.
  return preparedSizedUpload(outgoing, measured, reopen, upstream, () => Promise.resolve());
}

/** Reads a whole file past every inspector, keeping none of it. */
export function readThrough(file: Readable, inspectors: readonly ChunkInspector[]): Promise<void> {
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return pump(file, new InspectedStream(inspectors), discard);
}
