import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from '@tus/utils';
import type { UpstreamAsset } from '../../src/heygen/asset-record';
import type { Upstream, UpstreamUpload } from '../../src/heygen/upstream';
import { UpstreamFailure } from '../../src/heygen/upstream-failure';
import { createCompletion } from '../../src/intake/resumable/completion';
import { leasedCompletionClaims } from '../../src/intake/resumable/completion-claims';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';
import { CompletionRecords } from '../../src/intake/resumable/completion-records';
import { sizedMedia } from '../support/sized-media';

/** An upstream in this process: records what it was sent, answers as told. */
class FakeUpstream implements Upstream {
  readonly maxStreamedBytes = Number.MAX_SAFE_INTEGER;
  readonly sent: { idempotencyKey: string; mediaType: string; size: number | undefined }[] = [];
  failNext: UpstreamFailure | undefined;
  hold: Promise<void> | undefined;

  async send(upload: UpstreamUpload): Promise<UpstreamAsset> {
    this.sent.push({ idempotencyKey: upload.idempotencyKey, mediaType: upload.mediaType, size: upload.delivery === 'sized' ? upload.size : undefined });
    await this.hold;
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure !== undefined) throw failure;
    return { id: `asset-${this.sent.length}`, file_type: 'image', url: 'https://cdn.example.com/a.png', image_key: null, created_ts: null };
  }

  close(): void {}
}

describe('the completion step (in-process, a fake upstream)', () => {
  let dir: string;
  let upstream: FakeUpstream;
  let discarded: string[];
  const png = sizedMedia('image/png', 20_000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'completion-'));
    upstream = new FakeUpstream();
    discarded = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function stored(id: string, bytes: Buffer, filetype: string): Promise<Upload> {
    await writeFile(join(dir, id), bytes);
    return new Upload({ id, size: bytes.length, offset: bytes.length, metadata: { filetype } });
  }

  function completion(claims = leasedCompletionClaims(new MemoryLeaseStore()), records = new CompletionRecords(dir)) {
    return createCompletion({
      settings: { mode: 'buffered', maxBytes: { image: 1_000_000, video: 1_000_000, audio: 1_000_000 }, spoolDirectory: dir, upstream },
      records,
      claims,
      read: (id) => createReadStream(join(dir, id)),
      discard: (id) => {
        discarded.push(id);
        return Promise.resolve();
      },
    });
  }

  it('forwards a finished upload once under the upload\'s own key, and answers a second ask from the record', async () => {
    const step = completion();
    const upload = await stored('a'.repeat(32), png, 'image/png');
    const first = await step.complete(upload);
    expect(first).toMatchObject({ state: 'done', record: { id: 'asset-1', media_type: 'image/png', size_bytes: png.length } });
    expect(await step.complete(upload)).toEqual(first);
    expect(upstream.sent).toEqual([{ idempotencyKey: `hup-tus-${'a'.repeat(32)}`, mediaType: 'image/png', size: png.length }]);
    expect(discarded).toEqual([]);
  });

  it('answers "forwarding" while another holder has the claim, and shares a run that is in progress here', async () => {
    const claims = leasedCompletionClaims(new MemoryLeaseStore());
    const upload = await stored('b'.repeat(32), png, 'image/png');
    const elsewhere = await claims.claim(upload.id);
    const step = completion(claims);
    expect(await step.complete(upload)).toEqual({ state: 'forwarding' });
    expect(await step.isForwarding(upload.id)).toBe(true);
    await elsewhere!.release();

    let letGo = (): void => undefined;
    upstream.hold = new Promise((resolve) => (letGo = resolve));
    const one = step.complete(upload);
    const two = step.complete(upload);
    letGo();
    expect(await two).toEqual(await one);
    expect(upstream.sent).toHaveLength(1);
    expect(await step.isForwarding(upload.id)).toBe(false);
  });

  it('keeps the bytes and records a failure at HeyGen, so a retry forwards again', async () => {
    const step = completion();
    const upload = await stored('c'.repeat(32), png, 'image/png');
    upstream.failNext = new UpstreamFailure('HeyGen said 503', { kind: 'failed' });
    await expect(step.complete(upload)).rejects.toBeInstanceOf(UpstreamFailure);
    expect(discarded).toEqual([]);
    expect(await new CompletionRecords(dir).read(upload.id)).toMatchObject({ state: 'failed', kind: 'failed' });
    expect(await step.complete(upload)).toMatchObject({ state: 'done' });
    expect(upstream.sent).toHaveLength(2);
  });

  it('refuses a file that is not what it was declared to be: final, its bytes discarded, nothing sent', async () => {
    const step = completion();
    const upload = await stored('d'.repeat(32), png, 'video/mp4');
    await expect(step.complete(upload)).rejects.toMatchObject({ code: 'CONTENT_MISMATCH' });
    expect(discarded).toEqual([upload.id]);
    await expect(step.complete(upload)).rejects.toMatchObject({ code: 'CONTENT_MISMATCH' });
    expect(upstream.sent).toEqual([]);
  });
});
