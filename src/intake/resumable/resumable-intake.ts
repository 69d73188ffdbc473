import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MemoryLocker, Server } from '@tus/server';
import type { Locker, Upload } from '@tus/utils';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import { ApiError, isApiError } from '../../errors';
import type { AssetRecord } from '../../heygen/asset-record';
import { isUpstreamFailure } from '../../heygen/upstream-failure';
import type { Logger } from '../../ops/logger';
import { contextOf } from '../../request-context';
import { describeBytes, largestFileBytes, SPOOL_BUFFER_BYTES, tooLargeMessage } from '../../upload/limits';
import { isAllowedMediaType, kindOf, normaliseDeclaredType } from '../../upload/media-types';
import { prepareUpload, type UploadCore } from '../../upload/prepare-upload';
import { CheckedFileStore } from './checked-file-store';
import { type CompletionRecord, CompletionRecords } from './completion-records';
import { declaredFileOf, UPLOAD_ID } from './declared-file';
import { fromTusRefusal } from './tus-errors';

/** Where the tus endpoint is mounted; its Location headers are relative to the host (`/v1/uploads/<id>`). */
export const RESUMABLE_PATH = '/v1/uploads';
/** The response header of the completing request that names the HeyGen asset (its body is the record). */
export const ASSET_ID_HEADER = 'Asset-Id';
/** A forwarding claim not refreshed for this long belongs to a replica that died. */
const CLAIM_STALE_MS = 60_000;
const CLAIM_REFRESH_MS = 10_000;
/** Seconds a client refused for lack of disk should wait. */
const STORAGE_FULL_RETRY_AFTER_SECONDS = 60;

export interface ResumableOptions {
  readonly core: UploadCore;
  readonly directory: string;
  readonly expiryMs: number;
  readonly maxDiskBytes: number;
  /** A lock shared by the replicas (Redis), or undefined for @tus/server's in-process MemoryLocker. */
  readonly locker: Locker | undefined;
  readonly logger: Logger;
}

/** Where a resumable upload stands, for `GET /v1/uploads/<id>`. */
export type ResumableStatus =
  | { readonly state: 'done'; readonly record: AssetRecord }
  | { readonly state: 'forwarding' }
  | { readonly state: 'uploading'; readonly offset: number; readonly length: number }
  | { readonly state: 'refused'; readonly error: ApiError }
  | { readonly state: 'failed'; readonly failure: Extract<CompletionRecord, { state: 'failed' }> }
  | { readonly state: 'missing' }
  | { readonly state: 'expired' };

export interface ResumableIntake {
  /** Express handler for every tus request (POST, HEAD, PATCH, DELETE, OPTIONS) under RESUMABLE_PATH. */
  readonly handle: RequestHandler;
  /** `tokenSubject`: the caller's, when upload tokens are on (an upload is only its creator's). */
  status(id: string, tokenSubject?: string): Promise<ResumableStatus>;
  /** Removes expired unfinished uploads (the store's deleteExpired) and old completion records. */
  cleanup(): Promise<{ expired: number; records: number }>;
  start(intervalMs: number): Promise<void>;
  close(): void;
}

/**
 * The tus 1.0.0 intake (core, creation, termination, expiration) on the tus project's own
 * @tus/server and @tus/file-store. Every request arrives here after the edge (origin, token, rate
 * limit, gate); errors, from tus or from the checks, go to the edge's error handler as catalogue
 * errors. A finished upload is read back from disk into the upload core and sent to HeyGen once.
 */
export function createResumableIntake(options: ResumableOptions): ResumableIntake {
  const { core, logger } = options;
  const store = new CheckedFileStore({ directory: options.directory, expirationPeriodInMilliseconds: options.expiryMs, maxBytes: core.maxBytes });
  const records = new CompletionRecords(options.directory, CLAIM_STALE_MS);
  const running = new Map<string, Promise<ForwardOutcome>>();
  /** The error a hook threw, by tus request, so the edge answers with it rather than tus's 500. */
  const thrown = new WeakMap<object, unknown>();

  const server = new Server({
    path: RESUMABLE_PATH,
    datastore: store,
    locker: options.locker ?? new MemoryLocker(),
    relativeLocation: true,
    // Tus-Max-Size and the cap on every chunk. A creation is measured by onUploadCreate instead, against
    // its declared type's own limit (0: tus does not check it first with the largest one).
    maxSize: (req) => (req.method === 'POST' ? 0 : largestFileBytes(core.maxBytes)),
    namingFunction: () => randomBytes(16).toString('hex'),
    onUploadCreate: async (req, upload) => {
      checkCreation(upload, core.maxBytes);
      const reserved = await store.bytesReserved();
      if (reserved + (upload.size ?? 0) > options.maxDiskBytes) {
        throw new ApiError('STORAGE_FULL', undefined, {
          cause: new Error(`${describeBytes(reserved)} of ${describeBytes(options.maxDiskBytes)} reserved`),
          headers: { 'Retry-After': String(STORAGE_FULL_RETRY_AFTER_SECONDS) },
        });
      }
      // With upload tokens on, the upload is its creator's: other subjects get 404 for it.
      const subject = responseOf(req) === undefined ? undefined : contextOf(responseOf(req)!).tokenSubject;
      // A client may not name an owner itself.
      const metadata = Object.fromEntries(Object.entries(upload.metadata ?? {}).filter(([key]) => key !== OWNER_KEY));
      return { metadata: subject === undefined ? metadata : { ...metadata, [OWNER_KEY]: ownerTag(subject) } };
    },
    onIncomingRequest: async (req, id) => {
      if (req.method === 'POST') return;
      const owner = (await store.configstore.get(id))?.metadata?.[OWNER_KEY] ?? undefined;
      if (!mayAccess(owner, subjectOf(responseOf(req)))) throw new ApiError('UPLOAD_NOT_FOUND');
    },
    onUploadFinish: async (req, upload) => {
      const res = responseOf(req);
      const outcome = await complete(upload);
      const status = req.method === 'POST' ? 201 : outcome.state === 'done' ? 200 : 202;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (outcome.state === 'forwarding') return { status_code: status, headers, body: JSON.stringify({ status: 'forwarding' }) };
      if (res) {
        contextOf(res).mediaType = outcome.record.media_type;
        contextOf(res).bytes = outcome.record.size_bytes;
      }
      headers[ASSET_ID_HEADER] = outcome.record.id;
      return { status_code: status, headers, body: JSON.stringify(outcome.record) };
    },
    onResponseError: (req, error) => {
      thrown.set(req, error);
      return undefined;
    },
  });

  type ForwardOutcome = { readonly state: 'done'; readonly record: AssetRecord } | { readonly state: 'forwarding' };

  /** Forward a finished upload once, whoever asks (a retried final PATCH, another replica). */
  async function complete(upload: Upload): Promise<ForwardOutcome> {
    const earlier = await records.read(upload.id);
    if (earlier?.state === 'done') return earlier;
    if (earlier?.state === 'refused') throw new ApiError(earlier.code, earlier.message);
    let run = running.get(upload.id);
    if (run === undefined) {
      if (!(await records.claim(upload.id))) return { state: 'forwarding' };
      run = forward(upload).finally(() => running.delete(upload.id));
      running.set(upload.id, run);
    }
    return run;
  }

  async function forward(upload: Upload): Promise<ForwardOutcome> {
    const { id } = upload;
    const path = store.pathOf(id);
    const refresher = setInterval(() => void records.refresh(id), CLAIM_REFRESH_MS);
    refresher.unref();
    try {
      const reopen = () => createReadStream(path, { highWaterMark: SPOOL_BUFFER_BYTES });
      const prepared = await prepareUpload(
        core,
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
      const owner = ownerOf(upload);
      await records.write(id, { state: 'done', record, at: Date.now(), ...(owner === undefined ? {} : { owner }) });
      // HeyGen has the bytes: they leave the disk; the record stays for GET and for retries.
      await store.remove(id).catch((error: unknown) => logger.warn({ err: String(error), upload: id }, 'could not remove a forwarded upload'));
      return { state: 'done', record };
    } catch (error) {
      if (isApiError(error)) {
        // The proxy refused the finished file: final, and its bytes go.
        const owner = ownerOf(upload);
        await records.write(id, { state: 'refused', code: error.code, message: error.message, at: Date.now(), ...(owner === undefined ? {} : { owner }) });
        await store.remove(id).catch(() => undefined);
      } else if (isUpstreamFailure(error)) {
        await records.write(id, { state: 'failed', kind: error.kind, ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }), at: Date.now() });
      }
      throw error;
    } finally {
      clearInterval(refresher);
      await records.release(id);
    }
  }

  /** An upload already forwarded (or refused) is answered from its record: its bytes are gone. */
  async function answerFromRecord(req: Request, res: Response, next: NextFunction, id: string): Promise<boolean> {
    if (req.method !== 'PATCH' && req.method !== 'HEAD' && req.method !== 'DELETE') return false;
    const record = await records.read(id);
    if (record === undefined || record.state === 'failed') return false;
    if (!mayAccess(record.owner, subjectOf(res))) {
      next(new ApiError('UPLOAD_NOT_FOUND'));
      return true;
    }
    res.setHeader('Tus-Resumable', '1.0.0');
    if (record.state === 'refused') {
      next(new ApiError(record.code, record.message));
      return true;
    }
    if (req.method === 'DELETE') {
      next(new ApiError('INVALID_TUS_REQUEST', 'This upload is complete and can no longer be terminated.'));
      return true;
    }
    const size = String(record.record.size_bytes);
    res.setHeader('Upload-Offset', size);
    res.setHeader('Upload-Length', size);
    if (req.method === 'HEAD') {
      res.status(200).end();
      return true;
    }
    // A retried final PATCH whose first answer was lost: the same answer again, nothing sent twice.
    res.setHeader(ASSET_ID_HEADER, record.record.id);
    contextOf(res).mediaType = record.record.media_type;
    res.status(200).json(record.record);
    // The retry's body (normally empty) is not needed.
    req.resume();
    return true;
  }

  const handle: RequestHandler = async (req, res, passOn) => {
    const mountedUrl = req.url;
    // Express puts its mount point back in front of req.url when the request leaves the router.
    const next: NextFunction = (error?: unknown) => {
      req.url = mountedUrl;
      passOn(error);
    };
    try {
      const id = idOf(req);
      // tus reads the upload id from the whole path; Express strips its mount point from req.url.
      req.url = req.originalUrl;
      if (id !== undefined && !UPLOAD_ID.test(id)) {
        res.setHeader('Tus-Resumable', '1.0.0');
        next(new ApiError('UPLOAD_NOT_FOUND'));
        return;
      }
      if (id !== undefined && (await answerFromRecord(req, res, next, id))) return;
      const request = new NodeRequest({ req, res });
      const response = await server.handleWeb(request);
      // The edge owns CORS (ALLOWED_ORIGINS); tus's own would allow any origin.
      for (const name of [...response.headers.keys()]) {
        if (name.startsWith('access-control-')) response.headers.delete(name);
      }
      if (response.status >= 400) {
        const text = await response.text();
        for (const name of ['tus-resumable', 'upload-offset', 'connection']) {
          const value = response.headers.get(name);
          if (value !== null) res.setHeader(name, value);
        }
        next(toCatalogue(thrown.get(request), response.status, text));
        return;
      }
      // tus leaves the reason phrase empty ("HTTP/1.1 201 "); give it the usual one.
      const answer = response.statusText === '' ? new Response(response.body, { status: response.status, statusText: STATUS_CODES[response.status] ?? '', headers: response.headers }) : response;
      await sendNodeResponse(res, answer);
    } catch (error) {
      next(error);
    }
  };

  async function status(id: string, tokenSubject?: string): Promise<ResumableStatus> {
    if (!UPLOAD_ID.test(id)) return { state: 'missing' };
    const record = await records.read(id);
    const owner = record?.owner ?? (await store.configstore.get(id))?.metadata?.[OWNER_KEY] ?? undefined;
    if (!mayAccess(owner, tokenSubject)) return { state: 'missing' };
    if (record?.state === 'done') return { state: 'done', record: record.record };
    if (record?.state === 'refused') return { state: 'refused', error: new ApiError(record.code, record.message) };
    if (running.has(id) || (await records.forwarding(id))) return { state: 'forwarding' };
    if (record?.state === 'failed') return { state: 'failed', failure: record };
    try {
      const upload = await store.getUpload(id);
      const created = upload.creation_date === undefined ? Date.now() : new Date(upload.creation_date).getTime();
      if (options.expiryMs > 0 && Date.now() > created + options.expiryMs) return { state: 'expired' };
      return { state: 'uploading', offset: upload.offset, length: upload.size ?? 0 };
    } catch {
      return { state: 'missing' };
    }
  }

  async function cleanup(): Promise<{ expired: number; records: number }> {
    const expired = await store.deleteExpired().catch((error: unknown) => {
      logger.warn({ err: String((error as { body?: string }).body ?? error) }, 'resumable cleanup: some expired uploads could not be removed');
      return 0;
    });
    const removed = await records.removeOlderThan(options.expiryMs);
    if (expired > 0 || removed > 0) logger.info({ expired_uploads: expired, records_removed: removed }, 'resumable cleanup');
    return { expired, records: removed };
  }

  let timer: NodeJS.Timeout | undefined;
  return {
    handle,
    status,
    cleanup,
    start(intervalMs) {
      timer = setInterval(() => void cleanup(), intervalMs);
      timer.unref();
      return Promise.resolve();
    },
    close() {
      clearInterval(timer);
    },
  };
}

/** At creation, before a byte is stored: a length is declared, the declared type is one of the five, and the length fits its limit. */
function checkCreation(upload: Upload, maxBytes: UploadCore['maxBytes']): void {
  if (upload.size === undefined) throw new ApiError('UPLOAD_LENGTH_REQUIRED');
  if (upload.size === 0) throw new ApiError('EMPTY_FILE');
  const declared = normaliseDeclaredType(declaredFileOf(upload.metadata).declaredType);
  if (declared === undefined) {
    // A generic or missing type: the first bytes decide, then that type's limit applies.
    const largest = largestFileBytes(maxBytes);
    if (upload.size > largest) throw new ApiError('FILE_TOO_LARGE', `Files may be at most ${describeBytes(largest)}.`);
    return;
  }
  if (!isAllowedMediaType(declared)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Files of type ${declared} are not accepted; send PNG, JPEG, MP4, WebM or MP3.`);
  }
  const kind = kindOf(declared);
  if (upload.size > maxBytes[kind]) throw new ApiError('FILE_TOO_LARGE', tooLargeMessage(kind, maxBytes[kind]));
}

function idOf(req: Request): string | undefined {
  const rest = req.path.replace(/^\/+/, '');
  if (rest === '') return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

/** What tus answered, in catalogue words: the error a hook threw when there was one, else tus's own refusal. */
function toCatalogue(thrown: unknown, status: number, text: string): unknown {
  if (isApiError(thrown) || isUpstreamFailure(thrown)) return thrown;
  return fromTusRefusal(status, text);
}

/** The Upload-Metadata key that binds an upload to its creator's token subject (a hash of it). */
const OWNER_KEY = 'hup_owner';

function ownerTag(subject: string): string {
  return createHash('sha256').update(`heygen-upload-proxy:${subject}`).digest('hex').slice(0, 32);
}

function ownerOf(upload: Upload): string | undefined {
  return upload.metadata?.[OWNER_KEY] ?? undefined;
}

/** Without an owner (tokens off when it was created) anyone who has the URL may; else only its subject. */
function mayAccess(owner: string | null | undefined, subject: string | undefined): boolean {
  if (owner === undefined || owner === null) return true;
  return subject !== undefined && ownerTag(subject) === owner;
}

/** The Express response behind a tus request (srvx keeps the Node pair on it). */
function responseOf(req: unknown): Response | undefined {
  return (req as { runtime?: { node?: { res?: unknown } } }).runtime?.node?.res as Response | undefined;
}

function subjectOf(res: Response | undefined): string | undefined {
  return res === undefined ? undefined : contextOf(res).tokenSubject;
}
