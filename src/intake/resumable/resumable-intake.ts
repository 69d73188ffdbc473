import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Request as ExpressRequest, RequestHandler, Response as ExpressResponse } from 'express';
import { MemoryLocker, Server } from '@tus/server';
import type { Locker } from '@tus/utils';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import { ApiError, isApiError } from '../../errors';
import type { AssetRecord } from '../../heygen/asset-record';
import { isUpstreamFailure } from '../../heygen/upstream-failure';
import type { Logger } from '../../ops/logger';
import { contextOf } from '../../request-context';
import type { ReservationRefusal, UploadReservations } from '../../state/upload-reservations';
import { describeBytes } from '../../upload/admission';
import { largestFileBytes } from '../../upload/media-types';
import type { UploadSettings } from '../../upload/prepare-upload';
import type { ResumableStorage } from './backing-store';
import { CheckedStore } from './checked-store';
import { createCompletion } from './completion';
import type { CompletionClaims } from './completion-claims';
import type { CompletionRecord } from './completion-records';
import { ASSET_ID_HEADER } from './asset-id-header';
import { UPLOAD_ID } from './declared-file';
import { mayAccess, ownerOf, withOwner } from './ownership';
import { fromTusRefusal } from './tus-errors';

/** Where the tus endpoint is mounted; its Location headers are relative to the host (`/v1/uploads/<id>`). */
export const RESUMABLE_PATH = '/v1/uploads';
/** Seconds a client refused for lack of room should wait: uploads finish or expire in minutes. */
export const STORE_REFUSAL_RETRY_AFTER_SECONDS = 60;

export interface ResumableOptions {
  readonly settings: UploadSettings;
  /** Where uploads and their completion records are kept: the shared directory or a bucket. */
  readonly storage: ResumableStorage;
  readonly expiryMs: number;
  /** The running totals of declared bytes and unfinished uploads, per client and in all. */
  readonly reservations: UploadReservations;
  readonly limits: { readonly totalBytes: number; readonly bytesPerClient: number; readonly uploadsPerClient: number };
  /** A lock shared by the replicas (Redis), or undefined for @tus/server's in-process MemoryLocker. */
  readonly locker: Locker | undefined;
  readonly claims: CompletionClaims;
  readonly logger: Logger;
}

/** Where a resumable upload stands, for the edge's answers (GET, and PATCH/HEAD/DELETE of a finished upload). */
export type ResumableStatus =
  | { readonly state: 'done'; readonly record: AssetRecord }
  | { readonly state: 'forwarding' }
  | { readonly state: 'uploading'; readonly offset: number; readonly length: number }
  | { readonly state: 'refused'; readonly error: ApiError }
  | { readonly state: 'failed'; readonly failure: Extract<CompletionRecord, { state: 'failed' }> }
  | { readonly state: 'missing' }
  | { readonly state: 'expired' };

export interface ResumableIntake {
  /**
   * Express handler for every tus request (POST, HEAD, PATCH, DELETE, OPTIONS) under RESUMABLE_PATH,
   * once the edge has passed it; `req.params.id` is the upload the proxy checked, and the one tus acts on.
   */
  readonly handle: RequestHandler;
  /** `tokenSubject`: the caller's, when upload tokens are on (an upload is only its creator's). */
  status(id: string, tokenSubject?: string): Promise<ResumableStatus>;
  /** Removes expired unfinished uploads (the store's deleteExpired) and old completion records. */
  cleanup(): Promise<{ expired: number; records: number }>;
  /** Counts the uploads already stored against the disk budget, then cleans up every `intervalMs`. */
  start(intervalMs: number): Promise<void>;
  close(): void;
}

/**
 * The tus 1.0.0 intake (core, creation, creation-with-upload, termination, expiration) on the tus
 * project's own @tus/server and @tus/file-store or @tus/s3-store. Every request arrives here after the edge (origin,
 * token, rate limit, caps, gate); errors, from tus or from the checks, go to the edge's error handler
 * as catalogue errors. A finished upload is forwarded once (completion.ts) and its bytes leave the
 * disk when the request that forwarded it is over.
 */
export function createResumableIntake(options: ResumableOptions): ResumableIntake {
  const { settings, logger, reservations } = options;
  const store = new CheckedStore({ backing: options.storage.backing, expiryMs: options.expiryMs, maxBytes: settings.maxBytes, reservations });
  const { records } = options.storage;
  const completion = createCompletion({
    settings,
    records,
    claims: options.claims,
    read: (id) => store.backing.open(id),
    discard: (id) => store.remove(id),
  });

  /** What the bridge knows of each tus request: its Express pair, the id the edge checked, what it forwarded. */
  interface Exchange {
    readonly req: ExpressRequest;
    readonly res: ExpressResponse;
    readonly id: string | undefined;
    created?: string;
    forwarded?: string;
    hookError?: unknown;
  }
  const exchanges = new WeakMap<object, Exchange>();
  const exchangeOf = (request: object): Exchange => {
    const exchange = exchanges.get(request);
    if (exchange === undefined) throw new Error('a tus request reached the intake without its Express pair');
    return exchange;
  };

  const server = new Server({
    path: RESUMABLE_PATH,
    datastore: store,
    locker: options.locker ?? new MemoryLocker(),
    relativeLocation: true,
    // tus acts on exactly the id the edge checked (Express's path parameter), never on its own parse
    // of the whole URL, where a query string could name another upload.
    getFileIdFromRequest: (request) => exchangeOf(request).id,
    // Tus-Max-Size and the cap on every chunk. A creation was admitted by the edge (admitDeclared)
    // against its declared type's own limit (0: tus does not check it again with the largest one).
    maxSize: (request) => (request.method === 'POST' ? 0 : largestFileBytes(settings.maxBytes)),
    namingFunction: () => randomBytes(16).toString('hex'),
    onUploadCreate: async (request, upload) => {
      const exchange = exchangeOf(request);
      const context = contextOf(exchange.res);
      // The edge's per-client cap named the client (clientKeyOf) before this request got here.
      const refusal = await reserve(upload.id, context.clientKey ?? 'unknown', upload.size ?? 0);
      if (refusal !== undefined) throw refusal;
      exchange.created = upload.id;
      return { metadata: withOwner(upload.metadata, context.tokenSubject) };
    },
    onUploadFinish: async (request, upload) => {
      const exchange = exchangeOf(request);
      const outcome = await completion.complete(upload);
      const status = request.method === 'POST' ? 201 : outcome.state === 'done' ? 200 : 202;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (outcome.state === 'forwarding') return { status_code: status, headers, body: JSON.stringify({ status: 'forwarding' }) };
      exchange.forwarded = upload.id;
      const context = contextOf(exchange.res);
      context.mediaType = outcome.record.media_type;
      context.bytes = outcome.record.size_bytes;
      headers[ASSET_ID_HEADER] = outcome.record.id;
      return { status_code: status, headers, body: JSON.stringify(outcome.record) };
    },
    onResponseError: (request, error) => {
      exchangeOf(request).hookError = error;
      return undefined;
    },
  });

  async function reserve(id: string, clientKey: string, bytes: number): Promise<ApiError | undefined> {
    let refusal: ReservationRefusal | undefined;
    try {
      refusal = await reservations.reserve(id, clientKey, bytes);
    } catch (error) {
      return new ApiError('RESUMABLE_UNAVAILABLE', undefined, { cause: error, headers: { 'Retry-After': '1' } });
    }
    const retryAfter = { 'Retry-After': String(STORE_REFUSAL_RETRY_AFTER_SECONDS) };
    const { limits } = options;
    switch (refusal) {
      case undefined:
        return undefined;
      case 'store-full':
        return new ApiError('STORAGE_FULL', undefined, { headers: retryAfter, cause: new Error(`the ${describeBytes(limits.totalBytes)} of RESUMABLE_MAX_DISK_BYTES are reserved`) });
      case 'client-uploads':
        return new ApiError('TOO_MANY_UNFINISHED_UPLOADS', `You hold ${limits.uploadsPerClient} unfinished resumable uploads, as many as one client may; finish or delete one before starting another.`, { headers: retryAfter });
      case 'client-bytes':
        return new ApiError('TOO_MANY_UNFINISHED_UPLOADS', `Your unfinished resumable uploads would hold more than the ${describeBytes(limits.bytesPerClient)} one client may; finish or delete one before starting another.`, { headers: retryAfter });
    }
  }

  const handle: RequestHandler = (req, res, next) => {
    const request = new NodeRequest({ req, res });
    const id = typeof req.params.id === 'string' ? req.params.id : undefined;
    const exchange: Exchange = { req, res, id };
    exchanges.set(request, exchange);
    const work = bridge(request, exchange);
    // The edge's slot and lease are held until the forward is over, even when the client has gone.
    contextOf(res).uploadSettled = work.then(
      () => undefined,
      () => undefined,
    );
    work.catch(next);
  };

  async function bridge(request: InstanceType<typeof NodeRequest>, exchange: Exchange): Promise<void> {
    const { res } = exchange;
    try {
      const response = await server.handleWeb(request);
      // The edge owns CORS (ALLOWED_ORIGINS); tus's own would allow any origin.
      for (const name of [...response.headers.keys()]) {
        if (name.startsWith('access-control-')) response.headers.delete(name);
      }
      if (response.status >= 400) {
        const text = await response.text();
        // Bytes a failed write did store still meet the first-bytes check; its refusal is the answer.
        const target = exchange.id ?? exchange.created;
        if (target !== undefined && exchange.req.method !== 'HEAD' && exchange.req.method !== 'DELETE' && !isApiError(exchange.hookError)) {
          await store.checkStored(target).catch((refusal: unknown) => {
            if (isApiError(refusal)) exchange.hookError = refusal;
          });
        }
        for (const name of ['upload-offset', 'connection']) {
          const value = response.headers.get(name);
          if (value !== null) res.setHeader(name, value);
        }
        // A creation whose forward failed keeps its bytes: its Location lets the client retry by id.
        if (exchange.created !== undefined && isUpstreamFailure(exchange.hookError)) res.setHeader('Location', `${RESUMABLE_PATH}/${exchange.created}`);
        throw toCatalogue(exchange.hookError, response.status, text);
      }
      // tus leaves the reason phrase empty ("HTTP/1.1 201 "); give it the usual one.
      const answer = response.statusText === '' ? new Response(response.body, { status: response.status, statusText: STATUS_CODES[response.status] ?? '', headers: response.headers }) : response;
      await sendNodeResponse(res, answer);
    } finally {
      // HeyGen has the bytes: they leave the disk now that tus is done with the upload; the record stays.
      if (exchange.forwarded !== undefined) {
        await store.remove(exchange.forwarded).catch((error: unknown) => logger.warn({ err: String(error), upload: exchange.forwarded }, 'could not remove a forwarded upload'));
      }
    }
  }

  async function status(id: string, tokenSubject?: string): Promise<ResumableStatus> {
    if (!UPLOAD_ID.test(id)) return { state: 'missing' };
    const record = await records.read(id);
    const owner = record?.owner ?? ownerOf((await store.backing.info(id))?.metadata);
    if (!mayAccess(owner, tokenSubject)) return { state: 'missing' };
    if (record?.state === 'done') return { state: 'done', record: record.record };
    if (record?.state === 'refused') return { state: 'refused', error: new ApiError(record.code, record.message) };
    if (await completion.isForwarding(id)) return { state: 'forwarding' };
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
    async start(intervalMs) {
      // Uploads stored before this start (a restart, a Redis that lost its data) count against the
      // budget too: one read of each upload's info, here, rather than on every creation.
      try {
        for (const id of await store.backing.list()) {
          const info = await store.backing.info(id);
          if (info?.size !== undefined) await reservations.adopt(id, info.size).catch(() => undefined);
        }
      } catch (error) {
        // A bucket that cannot be listed yet (credentials, a name to fix) keeps the replica out of
        // traffic through readiness, rather than out of the cluster in a crash loop.
        logger.warn({ err: (error as { name?: string }).name ?? String(error) }, 'resumable store: could not count the stored uploads at start');
      }
      timer = setInterval(() => void cleanup(), intervalMs);
      timer.unref();
    },
    close() {
      clearInterval(timer);
    },
  };
}

/** What tus answered, in catalogue words: the error a hook threw when there was one, else tus's own refusal. */
function toCatalogue(thrown: unknown, status: number, text: string): unknown {
  if (isApiError(thrown) || isUpstreamFailure(thrown)) return thrown;
  return fromTusRefusal(status, text);
}
