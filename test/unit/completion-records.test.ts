import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompletionRecords } from '../../src/intake/resumable/completion-records';

/**
 * A missing record means "not finished yet" and the edge answers from the upload; a record that
 * cannot be read must not be taken for a missing one, or a finished upload would be answered 404 and
 * its client would start it again (a second asset at HeyGen).
 */
describe('CompletionRecords.read', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'records-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('answers undefined for an upload with no record, and the record once written', async () => {
    const records = new CompletionRecords(directory);
    expect(await records.read('a'.repeat(32))).toBeUndefined();
    const record = { state: 'refused', code: 'UNSUPPORTED_MEDIA_TYPE', message: 'no', at: 1 } as const;
    await records.write('a'.repeat(32), record);
    expect(await records.read('a'.repeat(32))).toEqual(record);
  });

  it('throws when a record is there but cannot be read', async () => {
    const records = new CompletionRecords(directory);
    // A directory where the record's file should be: reading it fails with EISDIR, not ENOENT.
    mkdirSync(join(directory, '.records', `${'b'.repeat(32)}.json`));
    await expect(records.read('b'.repeat(32))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
