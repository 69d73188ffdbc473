import { createHash, type Hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import busboy from 'busboy';
import { fileTypeFromBuffer } from 'file-type';
import { listen } from '../listen';
import { closeServer, type PendingObject, presignedUrl, type ReceivedPut, type StoredObject, startStandInObjectStore } from './stand-in-object-store';

/**
 * A stand-in for HeyGen's v3 asset API, for `npm run dev` and the integration tests: the v3 sibling
 * of stand-in-heygen.ts (v1). Two real HTTP servers on loopback:
 *
 * - the API at `url` (http://HOST:PORT; the adapter builds /v3/... on it), authenticated by `x-api-key`:
 *   - `POST /v3/assets`: multipart/form-data with exactly one part, named `file`, with a filename; the
 *     type is sniffed from the bytes (file-type), up to `multipartMaxBytes` (32,000,000). 200
 *     `{data:{asset_id,url,mime_type,size_bytes}}`.
 *   - `POST /v3/assets/direct-uploads`: JSON `{filename, content_type, size_bytes, checksum_sha256?}`;
 *     200 `{data:{asset_id,upload_url,upload_headers,expires_in_seconds,max_bytes,status:'pending_upload'}}`.
 *   - `POST /v3/assets/{asset_id}/complete`: JSON `{}` (or no body) or `{checksum_sha256}`; 200
 *     `{data:{asset_id,url,mime_type,size_bytes,status:'processing'}}`, idempotent; 404 not_found for an
 *     unknown id, 409 conflict while no object was stored, 400 invalid_parameter when the stored bytes
 *     are not of the declared type (sniffed at PUT time from the first 4100 bytes).
 *   - anything else: 404 not_found.
 *   Errors are `{error:{code,message,param?}}`; every answer carries X-Request-Id. `Idempotency-Key`
 *   (1-255 of [A-Za-z0-9_\-:.]) on the two creating calls, scoped per endpoint: a repeat replays the
 *   first answer byte for byte (plus `Idempotent-Replayed: true`), a repeat while the first is still
 *   running gets 409 request_in_progress. The repeat's body is not compared with the first's. Answers
 *   of 500 and up are never kept, and 401s are given before the key is looked at.
 * - the object store at `storageUrl` (stand-in-object-store.ts), which takes the presigned PUTs.
 *
 * Nothing received is kept: bodies are hashed (sha256) and counted as they stream past, so uploads of
 * hundreds of MiB leave memory flat; only the first 4100 bytes of a file are held, to sniff its type.
 *
 * Faults (`setFault(fault, times?)`: from now on, or for the next `times` requests it applies to) act
 * in front of HeyGen's idempotency layer, as an edge or gateway failure would: a faulted request
 * creates nothing and records no Idempotency-Key (except `lost-response`, which is the opposite case).
 * The generic ones apply to every API route (assets, direct-uploads, complete), so `times: 1` hits the
 * next of those calls, whichever it is; the others name their route (see StandInV3Fault). A use is
 * spent when a request the fault applies to arrives, whatever then happens to it; unknown paths
 * spend none. Generic faults come before the key check, as a gateway's would.
 */

export const STAND_IN_V3_MEDIA_TYPES: Readonly<Record<string, 'image' | 'video' | 'audio'>> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'video/mp4': 'video',
  'video/webm': 'video',
  'audio/mpeg': 'audio',
};

export type StandInV3Fault =
  | 'none'
  // Generic: the next API call (assets, direct-uploads or complete).
  /** 401 unauthorized whose message echoes the key received, as careless upstreams do. */
  | 'unauthorized'
  /** 402 insufficient_credit. */
  | 'insufficient-credit'
  /** 429 rate_limit_exceeded with Retry-After: 7. */
  | 'rate-limited'
  /** 400 invalid_parameter, param file, as if HeyGen refused the file. */
  | 'invalid-parameter'
  /** 500 internal_error. */
  | 'status-500'
  /** 502 with an HTML page, no envelope. */
  | 'bad-gateway-html'
  /** 200 labelled application/json whose body is not JSON. */
  | 'non-json'
  /** Read the whole body, then never answer. */
  | 'hang'
  /** Destroy the connection as soon as the request arrives, before any response byte. */
  | 'drop-connection'
  /** Reset the connection (RST) on the first body bytes (on arrival when there is no body). */
  | 'reset-mid-body'
  /** Never read the body (backpressure all the way back), never answer. */
  | 'stall-reading'
  /** 200 and headers, then one space every 200 ms, forever. */
  | 'trickle-response'
  /** 200 with a 4 MiB JSON body that holds no asset. */
  | 'huge-body'
  /** 307 to /redirected/... on the same server (which 404s and emits 'redirect-followed'). */
  | 'redirect'
  /** Handle the request fully (asset created, idempotent answer kept), then drop the connection unanswered. */
  | 'lost-response'
  // Route-specific.
  /** complete only: 409 conflict "Uploaded object not found yet" (the storage-visibility race). */
  | 'complete-not-found'
  /** direct-uploads only: the URL issued has already expired (as a signer with a skewed clock would). */
  | 'expired-url'
  /** The object store only: 403 AccessDenied. */
  | 'put-refused'
  /** The object store only: 500 InternalError. */
  | 'put-server-error';

export type RouteV3 = 'assets' | 'direct-uploads' | 'complete' | 'put' | 'other';

/** One request to either server, once it has ended (answered, abandoned, or read and left unanswered). */
export interface ReceivedV3 {
  readonly route: RouteV3;
  readonly path: string;
  readonly method: string;
  /** Names of the headers that arrived, lower-cased (to check nothing of the client's leaks through). */
  readonly headerNames: readonly string[];
  /** API routes: the x-api-key matched. Always false for the store. */
  readonly keyAccepted: boolean;
  /** An x-api-key or Authorization header arrived. On 'put' this must never be true. */
  readonly credentialSeen: boolean;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
  /** Bytes of request body read, framing included. */
  readonly bodyBytes: number;
  /** Bytes and sha256 of the file part ('assets') or of the body (every other route). */
  readonly bytes: number;
  readonly sha256: string;
  /** The name as this stand-in read it: the file part's filename ('assets'), the JSON body's ('direct-uploads'). */
  readonly filename?: string;
  /** 'assets': the file part's Content-Type. */
  readonly partContentType?: string;
  /** The body arrived in full (false when the sender aborted it or the stand-in dropped it). */
  readonly complete: boolean;
  /** The status sent, or undefined when none was (hang, drop, stall, lost-response, aborted). */
  readonly status: number | undefined;
  readonly requestId: string;
  readonly idempotencyKey?: string;
  /** The answer was a replay of an earlier one with the same Idempotency-Key. */
  readonly replayed: boolean;
  /** The asset created ('assets', 'direct-uploads') or addressed ('complete', 'put'). */
  readonly assetId?: string;
  readonly fault: StandInV3Fault;
}

export interface StandInAssetV3 {
  readonly assetId: string;
  readonly origin: 'multipart' | 'direct-upload';
  /** Sniffed ('multipart') or declared and, by completion, confirmed by sniffing ('direct-upload'). */
  readonly mimeType: string;
  readonly sizeBytes: number;
  /** Of the bytes received; undefined until a direct upload's PUT succeeds. */
  readonly sha256: string | undefined;
  readonly state: 'pending_upload' | 'uploaded' | 'processing';
  readonly url: string;
}

export interface StandInHeygenV3 {
  /** The API's base URL, http://HOST:PORT, without a path. */
  readonly url: string;
  readonly port: number;
  /** The object store's base URL (another port: another host as far as clients can tell). */
  readonly storageUrl: string;
  readonly storagePort: number;
  /** Every request to either server, in the order they ended. */
  readonly received: ReceivedV3[];
  /** Every asset, including direct uploads not completed yet. */
  readonly assets: ReadonlyMap<string, StandInAssetV3>;
  /** Distinct assets ever created: multipart uploads plus completed direct uploads. */
  assetsCreated(): number;
  /**
   * 'request' (IncomingMessage, RouteV3) when one arrives, 'received' (ReceivedV3) when it ends,
   * 'redirect-followed' (IncomingMessage) when a client follows the `redirect` fault.
   */
  readonly events: EventEmitter;
  /** Open connections to both servers right now. */
  openConnections(): number;
  /** Misbehave from now on; with `times`, only for that many requests the fault applies to. */
  setFault(fault: StandInV3Fault, times?: number): void;
  close(): Promise<void>;
}

export interface StandInV3Options {
  readonly apiKey: string;
  readonly port?: number;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly storagePort?: number;
  /** The largest size_bytes a direct upload may declare (HeyGen: 200 MiB). */
  readonly maxDirectUploadBytes?: number;
  /** The largest file `POST /v3/assets` takes (HeyGen: 32 MB). */
  readonly multipartMaxBytes?: number;
  /** How long an upload_url stays valid. */
  readonly uploadUrlTtlSeconds?: number;
}

export const DEFAULT_MAX_DIRECT_UPLOAD_BYTES = 200 * 1024 * 1024;
export const DEFAULT_MULTIPART_MAX_BYTES = 32_000_000;
const DEFAULT_UPLOAD_URL_TTL_SECONDS = 3600;
/** file-type's own figure for how many leading bytes its detectors read. */
const SNIFF_BYTES = 4100;
/** JSON bodies are small; past this one is refused (and drained, not kept). */
const MAX_JSON_BODY_BYTES = 64 * 1024;
const TRICKLE_INTERVAL_MS = 200;
const HUGE_BODY_PADDING = 4 * 1024 * 1024;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_\-:.]{1,255}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const COMPLETE_PATH = /^\/v3\/assets\/([^/]+)\/complete$/;

type ApiRoute = 'assets' | 'direct-uploads' | 'complete';

/** A fully formed answer, kept as text so an idempotent replay is the same bytes. */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface AssetRecord {
  assetId: string;
  origin: StandInAssetV3['origin'];
  mimeType: string;
  sizeBytes: number;
  sha256: string | undefined;
  state: StandInAssetV3['state'];
  url: string;
  /** Direct uploads only. */
  upload?: {
    readonly expiresAt: number;
    readonly checksumSha256: string | undefined;
    readonly uploadHeaders: Readonly<Record<string, string>>;
    sniffedType: string | undefined;
  };
}

/** What has been read of a request body so far. */
interface Tally {
  bodyBytes: number;
  /** The file part ('assets') or the whole body. */
  bytes: number;
  readonly hash: Hash;
  readonly head: Buffer[];
  headLength: number;
  /** JSON routes: the body, while it stays under MAX_JSON_BODY_BYTES. */
  readonly json: Buffer[];
  filename?: string;
  partContentType?: string;
  fileParts: number;
  otherParts: number;
  /** Why the body cannot be used (not multipart, broken framing, too large a JSON body). */
  malformed?: string;
}

type IdempotencyEntry = { readonly state: 'running' } | { readonly state: 'done'; readonly answer: Answer };

type IdempotencyDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'replay'; readonly answer: Answer }
  | { readonly kind: 'running' }
  | { readonly kind: 'own'; readonly slot: string };

export async function startStandInHeygenV3(options: StandInV3Options): Promise<StandInHeygenV3> {
  const expectedKey = Buffer.from(options.apiKey);
  const host = options.host ?? '127.0.0.1';
  const maxDirectUploadBytes = options.maxDirectUploadBytes ?? DEFAULT_MAX_DIRECT_UPLOAD_BYTES;
  const multipartMaxBytes = options.multipartMaxBytes ?? DEFAULT_MULTIPART_MAX_BYTES;
  const ttlSeconds = options.uploadUrlTtlSeconds ?? DEFAULT_UPLOAD_URL_TTL_SECONDS;
  // Signs upload URLs; per instance, so a URL from one stand-in never works on another.
  const secret = randomBytes(32);
  const received: ReceivedV3[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const assets = new Map<string, AssetRecord>();
  const idempotency = new Map<string, IdempotencyEntry>();
  let created = 0;
  let fault: StandInV3Fault = 'none';
  let faultUsesLeft = Infinity;

  /** The fault for a request on `route`, consuming one use when it applies there. */
  const takeFault = (route: RouteV3): StandInV3Fault => {
    if (!faultApplies(fault, route)) return 'none';
    const current = fault;
    faultUsesLeft -= 1;
    if (faultUsesLeft <= 0) fault = 'none';
    return current;
  };

  const keyAccepted = (req: IncomingMessage): boolean => {
    const given = Buffer.from(String(req.headers['x-api-key'] ?? ''));
    return given.length === expectedKey.length && timingSafeEqual(given, expectedKey);
  };

  const recordReceived = (entry: ReceivedV3): void => {
    received.push(entry);
    events.emit('received', entry);
  };

  const store = await startStandInObjectStore({
    host,
    port: options.storagePort ?? 0,
    secret,
    headBytes: SNIFF_BYTES,
    events,
    find: (assetId) => pendingObject(assets.get(assetId)),
    stored: async (assetId, object) => storedObject(assetId, object),
    takeFault: () => {
      const active = takeFault('put');
      return active === 'put-refused' || active === 'put-server-error' ? active : undefined;
    },
    onReceived: (put: ReceivedPut) => recordReceived({ ...put, route: 'put', keyAccepted: false, replayed: false }),
  });

  function pendingObject(asset: AssetRecord | undefined): PendingObject | undefined {
    if (asset?.upload === undefined) return undefined;
    return {
      assetId: asset.assetId,
      sizeBytes: asset.sizeBytes,
      contentType: asset.mimeType,
      expiresAt: asset.upload.expiresAt,
      checksumSha256: asset.upload.checksumSha256,
      uploadHeaders: asset.upload.uploadHeaders,
      acceptsUpload: asset.state !== 'processing',
    };
  }

  async function storedObject(assetId: string, object: StoredObject): Promise<void> {
    const asset = assets.get(assetId);
    if (asset?.upload === undefined) throw new Error(`no direct upload ${assetId}`);
    // The bytes are gone once the PUT ends, so the type is sniffed now and checked at completion.
    const sniffed = await sniff(object.head);
    if (asset.state === 'processing') throw new Error(`asset ${assetId} completed during its PUT`);
    asset.sha256 = object.sha256;
    asset.upload.sniffedType = sniffed;
    asset.state = 'uploaded';
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const completeMatch = COMPLETE_PATH.exec(path);
    let route: ApiRoute | 'other' = 'other';
    if (req.method === 'POST' && path === '/v3/assets') route = 'assets';
    else if (req.method === 'POST' && path === '/v3/assets/direct-uploads') route = 'direct-uploads';
    else if (req.method === 'POST' && completeMatch !== null) route = 'complete';
    events.emit('request', req, route);
    if (route === 'other' && path.startsWith('/redirected')) events.emit('redirect-followed', req);
    handle(req, res, route, completeMatch?.[1]);
  });

  function handle(req: IncomingMessage, res: ServerResponse, route: ApiRoute | 'other', pathAssetId: string | undefined): void {
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    res.setHeader('X-Request-Id', requestId);
    const active = takeFault(route);
    const accepted = keyAccepted(req);
    const rawKey = req.headers['idempotency-key'];
    const idempotencyKey = route === 'assets' || route === 'direct-uploads' ? rawKey : undefined;
    // Decided on arrival, so a repeat that comes while this one's body is still streaming sees it running.
    const decision = accepted && (active === 'none' || active === 'lost-response') ? decideIdempotency(route, idempotencyKey) : { kind: 'none' as const };
    const tally: Tally = { bodyBytes: 0, bytes: 0, hash: createHash('sha256'), head: [], headLength: 0, json: [], fileParts: 0, otherParts: 0 };
    let status: number | undefined;
    let replayed = false;
    let assetId = pathAssetId;
    let recorded = false;
    const record = (complete: boolean): void => {
      if (recorded) return;
      recorded = true;
      // A request that never got its answer frees its key, so a retry can do the work.
      if (decision.kind === 'own' && idempotency.get(decision.slot)?.state === 'running') idempotency.delete(decision.slot);
      recordReceived({
        route,
        path: req.url ?? '',
        method: req.method ?? '',
        headerNames: Object.keys(req.headers),
        keyAccepted: accepted,
        credentialSeen: req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined,
        contentType: req.headers['content-type'],
        contentLength: req.headers['content-length'],
        transferEncoding: req.headers['transfer-encoding'],
        bodyBytes: tally.bodyBytes,
        bytes: tally.bytes,
        // A copy: busboy may still hand over buffered file bytes after an abort, and they must not throw.
        sha256: tally.hash.copy().digest('hex'),
        ...(tally.filename === undefined ? {} : { filename: tally.filename }),
        ...(tally.partContentType === undefined ? {} : { partContentType: tally.partContentType }),
        complete,
        status,
        requestId,
        ...(typeof rawKey === 'string' ? { idempotencyKey: rawKey } : {}),
        replayed,
        ...(assetId === undefined ? {} : { assetId }),
        fault: active,
      });
    };

    if (active === 'drop-connection') {
      req.socket.destroy();
      record(false);
      return;
    }
    // The response's 'close' (not the request's, which Node emits once the body is read, before an
    // asynchronous answer) tells when the exchange is over: answered, or the connection gone.
    res.once('close', () => record(req.complete));
    if (active === 'stall-reading') {
      req.pause();
      return;
    }
    if (active === 'reset-mid-body') {
      if (req.headers['content-length'] === '0') req.socket.resetAndDestroy();
      else req.once('data', () => req.socket.resetAndDestroy());
    }

    const send = (answer: Answer): void => {
      res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': Buffer.byteLength(answer.body), ...answer.headers });
      res.end(answer.body);
      status = answer.status;
      record(true);
    };

    const bodyRead = (): void => {
      // The connection is already being reset: whatever the parser still delivers gets no answer.
      if (active === 'reset-mid-body') return;
      if (active === 'hang') {
        record(true);
        return;
      }
      if (active === 'trickle-response') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(' ');
        status = 200;
        const timer = setInterval(() => res.write(' '), TRICKLE_INTERVAL_MS);
        timers.add(timer);
        res.once('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
        record(true);
        return;
      }
      const canned = cannedFault(active, req, route);
      if (canned !== undefined) {
        send(canned);
        return;
      }
      if (route === 'other') {
        send(apiError(404, 'not_found', `No route for ${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`));
        return;
      }
      if (!accepted) {
        send(apiError(401, 'unauthorized', 'Invalid or missing API key'));
        return;
      }
      if (decision.kind === 'invalid') {
        send(apiError(400, 'invalid_parameter', 'Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 _ - : .', 'Idempotency-Key'));
        return;
      }
      if (decision.kind === 'replay') {
        replayed = true;
        const replayedId = assetIdIn(decision.answer);
        if (replayedId !== undefined) assetId = replayedId;
        send({ ...decision.answer, headers: { ...decision.answer.headers, 'Idempotent-Replayed': 'true' } });
        return;
      }
      if (decision.kind === 'running') {
        send(apiError(409, 'request_in_progress', 'A request with this Idempotency-Key is still in progress; retry later'));
        return;
      }
      answerRoute(route, tally, pathAssetId, active).then(
        (answer) => {
          const createdId = assetIdIn(answer);
          if (createdId !== undefined) assetId = createdId;
          // Only answers HeyGen would stand by are kept for replay; a failure lets the retry do the work.
          if (decision.kind === 'own' && answer.status < 500) idempotency.set(decision.slot, { state: 'done', answer });
          if (active === 'lost-response') {
            req.socket.destroy();
            record(true);
            return;
          }
          send(answer);
        },
        (error: unknown) => send(apiError(500, 'internal_error', `Stand-in failure: ${error instanceof Error ? error.message : String(error)}`)),
      );
    };

    if (route === 'assets') readMultipart(req, tally, bodyRead);
    else readWhole(req, tally, bodyRead);
  }

  function decideIdempotency(route: RouteV3, key: string | string[] | undefined): IdempotencyDecision {
    if (key === undefined) return { kind: 'none' };
    // Node joins a repeated header with ", ", which the pattern refuses: two keys name no single request.
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) return { kind: 'invalid' };
    const slot = `${route} ${key}`;
    const entry = idempotency.get(slot);
    if (entry?.state === 'done') return { kind: 'replay', answer: entry.answer };
    if (entry?.state === 'running') return { kind: 'running' };
    idempotency.set(slot, { state: 'running' });
    return { kind: 'own', slot };
  }

  async function answerRoute(route: ApiRoute, tally: Tally, pathAssetId: string | undefined, active: StandInV3Fault): Promise<Answer> {
    switch (route) {
      case 'assets':
        return answerMultipart(tally);
      case 'direct-uploads':
        return answerDirectUpload(tally, active === 'expired-url');
      case 'complete':
        return answerComplete(tally, pathAssetId ?? '', active === 'complete-not-found');
    }
  }

  async function answerMultipart(tally: Tally): Promise<Answer> {
    if (tally.malformed !== undefined) return apiError(400, 'invalid_parameter', tally.malformed, 'file');
    if (tally.fileParts !== 1 || tally.otherParts !== 0) {
      return apiError(400, 'invalid_parameter', 'Send exactly one part, named "file", with a filename', 'file');
    }
    if (tally.bytes === 0) return apiError(400, 'invalid_parameter', 'The file is empty', 'file');
    if (tally.bytes > multipartMaxBytes) {
      return apiError(400, 'invalid_parameter', `The file exceeds ${multipartMaxBytes} bytes; use a direct upload`, 'file');
    }
    const mimeType = await sniff(Buffer.concat(tally.head));
    const kind = mimeType === undefined ? undefined : STAND_IN_V3_MEDIA_TYPES[mimeType];
    if (mimeType === undefined || kind === undefined) {
      return apiError(400, 'invalid_parameter', `Unsupported file type${mimeType === undefined ? '' : ` ${mimeType}`}`, 'file');
    }
    const assetId = newAssetId();
    const asset: AssetRecord = {
      assetId,
      origin: 'multipart',
      mimeType,
      sizeBytes: tally.bytes,
      sha256: tally.hash.copy().digest('hex'),
      state: 'processing',
      url: assetUrl(kind, assetId),
    };
    assets.set(assetId, asset);
    created += 1;
    return ok({ asset_id: assetId, url: asset.url, mime_type: mimeType, size_bytes: asset.sizeBytes });
  }

  function answerDirectUpload(tally: Tally, expired: boolean): Promise<Answer> {
    const parsed = jsonObject(tally, false);
    if (typeof parsed === 'string') return Promise.resolve(apiError(400, 'invalid_parameter', parsed));
    const { filename, content_type: contentType, size_bytes: sizeBytes, checksum_sha256: checksum } = parsed;
    if (typeof filename === 'string') tally.filename = filename;
    const refuse = (param: string, message: string): Promise<Answer> => Promise.resolve(apiError(400, 'invalid_parameter', message, param));
    if (typeof filename !== 'string' || filename.length === 0 || filename.length > 255) return refuse('filename', 'filename must be a string of 1-255 characters');
    if (typeof contentType !== 'string' || STAND_IN_V3_MEDIA_TYPES[contentType] === undefined) {
      return refuse('content_type', `content_type must be one of ${Object.keys(STAND_IN_V3_MEDIA_TYPES).join(', ')}`);
    }
    if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) return refuse('size_bytes', 'size_bytes must be a positive integer');
    if (sizeBytes > maxDirectUploadBytes) return refuse('size_bytes', `size_bytes exceeds max_bytes (${maxDirectUploadBytes})`);
    if (checksum !== undefined && (typeof checksum !== 'string' || !SHA256_HEX.test(checksum))) {
      return refuse('checksum_sha256', 'checksum_sha256 must be 64 hexadecimal characters');
    }
    const checksumSha256 = checksum?.toLowerCase();
    const assetId = newAssetId();
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = expired ? now - 60 : now + ttlSeconds;
    const uploadHeaders: Record<string, string> = { 'Content-Type': contentType, 'x-amz-meta-asset-id': assetId };
    if (checksumSha256 !== undefined) uploadHeaders['x-amz-checksum-sha256'] = Buffer.from(checksumSha256, 'hex').toString('base64');
    assets.set(assetId, {
      assetId,
      origin: 'direct-upload',
      mimeType: contentType,
      sizeBytes,
      sha256: undefined,
      state: 'pending_upload',
      url: assetUrl(STAND_IN_V3_MEDIA_TYPES[contentType], assetId),
      upload: { expiresAt, checksumSha256, uploadHeaders, sniffedType: undefined },
    });
    return Promise.resolve(
      ok({
        asset_id: assetId,
        upload_url: presignedUrl(store.url, secret, { assetId, sizeBytes, contentType, expiresAt, checksumSha256 }),
        upload_headers: uploadHeaders,
        expires_in_seconds: ttlSeconds,
        max_bytes: maxDirectUploadBytes,
        status: 'pending_upload',
      }),
    );
  }

  function answerComplete(tally: Tally, assetId: string, notFoundYet: boolean): Promise<Answer> {
    const answer = (a: Answer): Promise<Answer> => Promise.resolve(a);
    const parsed = jsonObject(tally, true);
    if (typeof parsed === 'string') return answer(apiError(400, 'invalid_parameter', parsed));
    const checksum = parsed.checksum_sha256;
    if (checksum !== undefined && (typeof checksum !== 'string' || !SHA256_HEX.test(checksum))) {
      return answer(apiError(400, 'invalid_parameter', 'checksum_sha256 must be 64 hexadecimal characters', 'checksum_sha256'));
    }
    const asset = assets.get(assetId);
    if (asset === undefined) return answer(apiError(404, 'not_found', `Asset ${assetId} not found`));
    if (notFoundYet || asset.state === 'pending_upload') return answer(apiError(409, 'conflict', 'Uploaded object not found yet'));
    if (asset.state === 'uploaded') {
      if (checksum !== undefined && checksum.toLowerCase() !== asset.sha256) {
        return answer(apiError(400, 'invalid_parameter', 'checksum_sha256 does not match the uploaded object', 'checksum_sha256'));
      }
      const sniffed = asset.upload?.sniffedType;
      if (sniffed !== asset.mimeType) {
        return answer(
          apiError(400, 'invalid_parameter', `The uploaded object is not ${asset.mimeType} (it looks like ${sniffed ?? 'no known type'})`, 'content_type'),
        );
      }
      asset.state = 'processing';
      created += 1;
    }
    return answer(ok({ asset_id: asset.assetId, url: asset.url, mime_type: asset.mimeType, size_bytes: asset.sizeBytes, status: 'processing' }));
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let bound: { port: number; host: string };
  try {
    bound = await listen(server, options.port ?? 0, host);
  } catch (error) {
    await store.close();
    throw error;
  }

  return {
    url: `http://${bound.host}:${bound.port}`,
    port: bound.port,
    storageUrl: store.url,
    storagePort: store.port,
    received,
    assets,
    assetsCreated: () => created,
    events,
    openConnections: () => sockets.size + store.openConnections(),
    setFault(next, times = Infinity) {
      fault = next;
      faultUsesLeft = times;
    },
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      await Promise.all([closeServer(server, sockets), store.close()]);
    },
  };
}

/** Which routes a fault applies to (and so consumes a use on). */
function faultApplies(fault: StandInV3Fault, route: RouteV3): boolean {
  switch (fault) {
    case 'none':
      return false;
    case 'complete-not-found':
      return route === 'complete';
    case 'expired-url':
      return route === 'direct-uploads';
    case 'put-refused':
    case 'put-server-error':
      return route === 'put';
    default:
      return route === 'assets' || route === 'direct-uploads' || route === 'complete';
  }
}

/** The fixed answer of a fault that replaces HeyGen's, or undefined when the request is handled. */
function cannedFault(fault: StandInV3Fault, req: IncomingMessage, route: RouteV3): Answer | undefined {
  switch (fault) {
    case 'unauthorized':
      // Echoes the key it was given, as careless upstreams do, to prove the proxy never passes it on.
      return apiError(401, 'unauthorized', `Unauthorized: API key ${String(req.headers['x-api-key'])} is not valid`);
    case 'insufficient-credit':
      return apiError(402, 'insufficient_credit', 'Insufficient credit to complete this request');
    case 'rate-limited':
      return { ...apiError(429, 'rate_limit_exceeded', 'Rate limit exceeded; retry later'), headers: { 'Retry-After': '7' } };
    case 'invalid-parameter':
      return apiError(400, 'invalid_parameter', 'The file could not be processed', 'file');
    case 'status-500':
      return apiError(500, 'internal_error', 'Internal error');
    case 'bad-gateway-html':
      return { status: 502, contentType: 'text/html', body: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>' };
    case 'non-json':
      return { status: 200, contentType: 'application/json', body: 'OK <<not json>> {"data":' };
    case 'huge-body':
      return { status: 200, contentType: 'application/json', body: `{"data":null,"padding":"${'x'.repeat(HUGE_BODY_PADDING)}"}` };
    case 'redirect':
      return { status: 307, contentType: 'text/plain', body: '', headers: { Location: `/redirected/v3/${route}` } };
    default:
      return undefined;
  }
}

/** Streams a multipart body through busboy: the first `file` part is hashed and counted, nothing kept. */
function readMultipart(req: IncomingMessage, tally: Tally, done: () => void): void {
  let requestEnded = false;
  let parserClosed = false;
  let finished = false;
  const maybeDone = (): void => {
    if (finished || !requestEnded || (!parserClosed && tally.malformed === undefined)) return;
    finished = true;
    done();
  };
  req.on('data', (chunk: Buffer) => {
    tally.bodyBytes += chunk.length;
  });
  req.once('end', () => {
    requestEnded = true;
    maybeDone();
  });
  let parser: busboy.Busboy;
  try {
    // Few parts allowed: HeyGen takes one, and a flood of parts is not worth parsing.
    // A raw UTF-8 `filename="..."` (what browsers send) is read as UTF-8, as a parser set up for
    // today's forms reads it; busboy's default for parameters is latin1.
    parser = busboy({ headers: req.headers, limits: { parts: 16, fieldSize: 64 * 1024 }, defParamCharset: 'utf8' });
  } catch {
    tally.malformed = 'The body must be multipart/form-data';
    req.resume();
    return;
  }
  parser.on('file', (name, stream, info) => {
    if (name !== 'file' || info.filename === undefined) {
      tally.otherParts += 1;
      stream.resume();
      return;
    }
    tally.fileParts += 1;
    if (tally.fileParts > 1) {
      stream.resume();
      return;
    }
    tally.filename = info.filename;
    tally.partContentType = info.mimeType;
    stream.on('data', (chunk: Buffer) => {
      tally.bytes += chunk.length;
      tally.hash.update(chunk);
      keepHead(tally, chunk);
    });
  });
  parser.on('field', () => {
    tally.otherParts += 1;
  });
  parser.on('partsLimit', () => {
    tally.malformed ??= 'Too many parts';
  });
  parser.on('error', (error: unknown) => {
    tally.malformed ??= `Malformed multipart body: ${error instanceof Error ? error.message : String(error)}`;
    req.unpipe(parser);
    req.resume();
    maybeDone();
  });
  parser.on('close', () => {
    parserClosed = true;
    maybeDone();
  });
  req.pipe(parser);
}

/** Reads a (JSON) body: hashed and counted whole, kept only while it stays small. */
function readWhole(req: IncomingMessage, tally: Tally, done: () => void): void {
  let kept = 0;
  req.on('data', (chunk: Buffer) => {
    tally.bodyBytes += chunk.length;
    tally.bytes += chunk.length;
    tally.hash.update(chunk);
    kept += chunk.length;
    if (kept <= MAX_JSON_BODY_BYTES) tally.json.push(chunk);
    else tally.malformed ??= `The body exceeds ${MAX_JSON_BODY_BYTES} bytes`;
  });
  req.once('end', done);
}

function keepHead(tally: Tally, chunk: Buffer): void {
  if (tally.headLength >= SNIFF_BYTES) return;
  const take = chunk.subarray(0, SNIFF_BYTES - tally.headLength);
  // A copy, so the head does not pin the whole chunk.
  tally.head.push(Buffer.from(take));
  tally.headLength += take.length;
}

/** The body as a JSON object, or why it is not one. `emptyIsObject`: no body at all reads as {}. */
function jsonObject(tally: Tally, emptyIsObject: boolean): Record<string, unknown> | string {
  if (tally.malformed !== undefined) return tally.malformed;
  const text = Buffer.concat(tally.json).toString('utf8');
  if (text.trim() === '' && emptyIsObject) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'The body must be a JSON object';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'The body must be a JSON object';
  return value as Record<string, unknown>;
}

async function sniff(head: Buffer): Promise<string | undefined> {
  // The stand-in's own use of file-type, not the proxy's detector: it must not share the code it checks.
  const result = await fileTypeFromBuffer(head).catch(() => undefined);
  return result?.mime;
}

function newAssetId(): string {
  return randomBytes(16).toString('hex');
}

function assetUrl(kind: string, assetId: string): string {
  return `https://resource2.heygen.ai/${kind}/${assetId}/original`;
}

function ok(data: Record<string, unknown>): Answer {
  return { status: 200, contentType: 'application/json', body: JSON.stringify({ data }) };
}

function apiError(status: number, code: string, message: string, param?: string): Answer {
  const error = param === undefined ? { code, message } : { code, message, param };
  return { status, contentType: 'application/json', body: JSON.stringify({ error }) };
}

/** The asset id inside an answer of ours, to record which asset a request created or replayed. */
function assetIdIn(answer: Answer): string | undefined {
  if (answer.status !== 200) return undefined;
  const parsed = JSON.parse(answer.body) as { data?: { asset_id?: unknown } };
  return typeof parsed.data?.asset_id === 'string' ? parsed.data.asset_id : undefined;
}
