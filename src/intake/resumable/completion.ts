import type { Readable } from 'node:stream';
import type { Upload } from '@tus/utils';
import { ApiError, isApiError } from '../../errors';
import type { AssetRecord } from '../../heygen/asset-record';
import { isUpstreamFailure } from '../../heygen/upstream-failure';
import { prepareUpload, type UploadSettings } from '../../upload/prepare-upload';
import type { CompletionClaims } from './completion-claims';
import type { CompletionRecordStore } from './completion-records';
import { declaredFileOf } from './declared-file';
import { ownerOf } from './ownership';

export type ForwardOutcome = { readonly state: 'done'; readonly record: AssetRecord } | { readonly state: 'forwarding' };

export interface CompletionParts {
  readonly settings: UploadSettings;
  readonly records: CompletionRecordStore;
  readonly claims: CompletionClaims;
  /** A fresh read of a stored upload's bytes from the first. */
  readonly read: (id: string) => Readable;
  /** Removes a stored upload's bytes (a refused file: they are of no further use). */
  readonly discard: (id: string) => Promise<void>;
}

export interface Completion {
  /**
   * Forwards a finished upload to HeyGen once, whoever asks (a retried final PATCH, another replica):
   * 'done' with the record, or 'forwarding' while another request holds the claim. A refusal of the
   * file throws its ApiError (and its bytes go); a failure at HeyGen throws the UpstreamFailure and
   * keeps the bytes, so the client can retry by the upload's id. On 'done' the bytes are still
   * stored: the caller removes them once its request is over (tus reads the upload once more to
   * answer a creation that carried the whole file).
   */
  complete(upload: Upload): Promise<ForwardOutcome>;
  /** A forward of this upload is running here or on another replica. */
  isForwarding(id: string): Promise<boolean>;
}

/** The step that turns a finished resumable upload into a HeyGen asset; it knows no HTTP. */
export function createCompletion(parts: CompletionParts): Completion {
  const { settings, records, claims } = parts;
  const running = new Map<string, Promise<ForwardOutcome>>();

  async function forward(upload: Upload): Promise<ForwardOutcome> {
    const { id } = upload;
    const owner = ownerOf(upload.metadata);
    const ownedBy = owner === undefined ? {} : { owner };
    try {
      const reopen = () => parts.read(id);
      const prepared = await prepareUpload(
        settings,
        { stream: reopen(), reopen, ...declaredFileOf(upload.metadata) },
        // One HeyGen asset per upload, however often forwarding is tried: the key is the upload's.
        { upstreamKey: () => `hup-tus-${id}`, ...(upload.size === undefined ? {} : { sizeAtMost: upload.size }), checksum: true, purpose: 'forward' },
      );
      let record: AssetRecord;
      try {
        record = await prepared.send();
      } finally {
        await prepared.dispose();
      }
      await records.write(id, { state: 'done', record, at: Date.now(), ...ownedBy });
      return { state: 'done', record };
    } catch (error) {
      if (isApiError(error)) {
        await records.write(id, { state: 'refused', code: error.code, message: error.message, at: Date.now(), ...ownedBy });
        await parts.discard(id).catch(() => undefined);
      } else if (isUpstreamFailure(error)) {
        const retryAfter = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
        await records.write(id, { state: 'failed', kind: error.kind, ...retryAfter, at: Date.now(), ...ownedBy });
      }
      throw error;
    }
  }

  /** Reads the record, takes the claim, forwards: one attempt, shared by every ask on this replica while it runs. */
  async function attempt(upload: Upload): Promise<ForwardOutcome> {
    const earlier = await records.read(upload.id);
    if (earlier?.state === 'done') return { state: 'done', record: earlier.record };
    if (earlier?.state === 'refused') throw new ApiError(earlier.code, earlier.message);
    const claim = await claims.claim(upload.id);
    if (claim === undefined) return { state: 'forwarding' };
    try {
      // Another replica may have finished between the read above and the claim.
      const settled = await records.read(upload.id);
      if (settled?.state === 'done') return { state: 'done', record: settled.record };
      return await forward(upload);
    } finally {
      await claim.release();
    }
  }

  return {
    complete(upload) {
      const here = running.get(upload.id);
      if (here !== undefined) return here;
      const run = attempt(upload).finally(() => running.delete(upload.id));
      running.set(upload.id, run);
      return run;
    },
    async isForwarding(id) {
      return running.has(id) || (await claims.isClaimed(id));
    },
  };
}
