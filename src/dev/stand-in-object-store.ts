import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from '../listen';

/**
 * The object store behind the v3 stand-in's direct uploads: a second HTTP server (another port, so
 * another "host", as HeyGen's presigned URLs point at a storage host, not at the API) that takes
 * presigned PUTs the way S3-like stores do. It checks the URL's signature and expiry, the headers the
 * create call told the client to echo, the exact length and type, and the declared checksum, and it
 * refuses any HeyGen credential outright: the key must never travel to storage, and each time one
 * arrives it is recorded so tests can prove it never does. Bodies are hashed as they stream past and
 * only their first bytes are kept (for type sniffing), so memory stays flat whatever the size.
 *
 * It owns no asset state: stand-in-heygen-v3.ts hands it a lookup and is told what was stored.
 */

/** What a presigned URL's signature covers; changing any of it invalidates the URL. */
export interface SignedUploadFields {
  readonly assetId: string;
  readonly sizeBytes: number;
  readonly contentType: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** Lower-case hex, or undefined when the create call declared none. */
  readonly checksumSha256: string | undefined;
}

/** An upload the API side has issued a URL for. */
export interface PendingObject extends SignedUploadFields {
  /** Headers the PUT must carry verbatim (names compared case-insensitively, values exactly). */
  readonly uploadHeaders: Readonly<Record<string, string>>;
  /** False once the asset is completed: its object can no longer be replaced. */
  readonly acceptsUpload: boolean;
}

/** What a successful PUT leaves behind (never the bytes themselves). */
export interface StoredObject {
  readonly bytes: number;
  readonly sha256: string;
  /** The body's first bytes, for sniffing its type at PUT time. */
  readonly head: Buffer;
}

export type StoreFault = 'put-refused' | 'put-server-error';

/** One request to the store, once it has ended (answered, or abandoned by the sender). */
export interface ReceivedPut {
  readonly path: string;
  readonly method: string;
  readonly headerNames: readonly string[];
  /** An x-api-key or Authorization header arrived: the HeyGen credential leaked towards storage. */
  readonly credentialSeen: boolean;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly bodyBytes: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly complete: boolean;
  readonly status: number | undefined;
  readonly requestId: string;
  readonly assetId: string | undefined;
  readonly fault: StoreFault | 'none';
}

export interface ObjectStoreOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: Buffer;
  /** How many leading body bytes to keep for sniffing. */
  readonly headBytes: number;
  readonly events: EventEmitter;
  find(assetId: string): PendingObject | undefined;
  /** Called before the 200 goes out; the answer waits for it (sniffing is asynchronous). */
  stored(assetId: string, object: StoredObject): Promise<void>;
  /** The store fault to apply to this request, if any (consumes one use). */
  takeFault(): StoreFault | undefined;
  onReceived(put: ReceivedPut): void;
}

export interface StandInObjectStore {
  readonly url: string;
  readonly port: number;
  openConnections(): number;
  close(): Promise<void>;
}

const BUCKET_PATH = /^\/bucket\/([0-9a-f]{32})$/;

export function signUpload(secret: Buffer, fields: SignedUploadFields): string {
  const canonical = [fields.assetId, fields.sizeBytes, fields.contentType, fields.expiresAt, fields.checksumSha256 ?? ''].join('\n');
  return createHmac('sha256', secret).update(canonical).digest('hex');
}

export function presignedUrl(storeUrl: string, secret: Buffer, fields: SignedUploadFields): string {
  const signature = signUpload(secret, fields);
  return `${storeUrl}/bucket/${fields.assetId}?X-Expires=${fields.expiresAt}&X-Signature=${signature}`;
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export async function startStandInObjectStore(options: ObjectStoreOptions): Promise<StandInObjectStore> {
  const sockets = new Set<Socket>();

  /** Everything decidable from the request line and headers, in the order S3-like stores check them. */
  function refusalBeforeBody(req: IncomingMessage, url: URL, pending: PendingObject | undefined, fault: StoreFault | undefined): Refusal | undefined {
    if (fault === 'put-refused') return { status: 403, code: 'AccessDenied', message: 'Access Denied' };
    if (fault === 'put-server-error') return { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
    if (req.method !== 'PUT') return { status: 405, code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.' };
    if (req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined) {
      return { status: 403, code: 'AccessDenied', message: 'Requests to storage must not carry credentials; the URL is the authorisation' };
    }
    const expires = url.searchParams.get('X-Expires');
    const signature = url.searchParams.get('X-Signature') ?? '';
    if (pending === undefined || expires === null || !/^\d+$/.test(expires) || !signatureMatches(signature, { ...pending, expiresAt: Number(expires) })) {
      return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
    }
    if (Number(expires) <= Math.floor(Date.now() / 1000)) return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
    if (!pending.acceptsUpload) return { status: 403, code: 'AccessDenied', message: 'The upload is already completed' };
    if (req.headers['content-length'] === undefined) {
      return { status: 411, code: 'MissingContentLength', message: 'You must provide the Content-Length HTTP header.' };
    }
    if (Number(req.headers['content-length']) !== pending.sizeBytes) {
      return { status: 400, code: 'InvalidArgument', message: `Content-Length must be the declared size_bytes (${pending.sizeBytes})` };
    }
    if (req.headers['content-type'] !== pending.contentType) {
      return { status: 403, code: 'SignatureDoesNotMatch', message: 'Content-Type does not match the signed content_type' };
    }
    for (const [name, value] of Object.entries(pending.uploadHeaders)) {
      if (req.headers[name.toLowerCase()] !== value) {
        return { status: 403, code: 'SignatureDoesNotMatch', message: `Header ${name} is missing or differs from upload_headers` };
      }
    }
    return undefined;
  }

  function signatureMatches(given: string, fields: SignedUploadFields): boolean {
    const expected = Buffer.from(signUpload(options.secret, fields));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  const server = http.createServer((req, res) => {
    options.events.emit('request', req, 'put');
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('x-amz-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://store.invalid');
    const assetId = BUCKET_PATH.exec(url.pathname)?.[1];
    const fault = assetId === undefined ? undefined : options.takeFault();
    const pending = assetId === undefined ? undefined : options.find(assetId);
    const credentialSeen = req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined;
    const refusal: Refusal | undefined =
      assetId === undefined ? { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' } : refusalBeforeBody(req, url, pending, fault);

    const hash = createHash('sha256');
    const headChunks: Buffer[] = [];
    let headLength = 0;
    let bodyBytes = 0;
    let status: number | undefined;
    let recorded = false;
    const record = (complete: boolean): void => {
      if (recorded) return;
      recorded = true;
      const put: ReceivedPut = {
        path: req.url ?? '',
        method: req.method ?? '',
        headerNames: Object.keys(req.headers),
        credentialSeen,
        contentType: req.headers['content-type'],
        contentLength: req.headers['content-length'],
        transferEncoding: req.headers['transfer-encoding'],
        bodyBytes,
        bytes: bodyBytes,
        sha256: hash.copy().digest('hex'),
        complete,
        status,
        requestId,
        assetId,
        fault: fault ?? 'none',
      };
      options.onReceived(put);
    };

    // A refused PUT is still read to its end before the answer, so the sender sees the refusal rather
    // than a broken pipe; nothing of it is kept.
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      hash.update(chunk);
      if (headLength < options.headBytes) {
        const take = chunk.subarray(0, options.headBytes - headLength);
        headChunks.push(Buffer.from(take));
        headLength += take.length;
      }
    });
    // The sender went away before the whole body arrived (an incomplete upload stores nothing), or
    // before the answer. The response's 'close', because the request's comes as soon as the body is read.
    res.once('close', () => record(req.complete));
    req.once('end', () => {
      // Node's parser never delivers more than Content-Length; fewer never reaches 'end' (see 'close').
      if (refusal !== undefined || assetId === undefined || pending === undefined) {
        status = sendXmlError(res, refusal ?? { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' }, requestId);
        record(true);
        return;
      }
      const digest = hash.copy().digest('hex');
      if (pending.checksumSha256 !== undefined && digest !== pending.checksumSha256) {
        status = sendXmlError(res, { status: 400, code: 'BadDigest', message: 'The SHA256 you specified did not match the calculated checksum.' }, requestId);
        record(true);
        return;
      }
      options.stored(assetId, { bytes: bodyBytes, sha256: digest, head: Buffer.concat(headChunks) }).then(
        () => {
          res.writeHead(200, { 'Content-Length': '0' }).end();
          status = 200;
          record(true);
        },
        () => {
          status = sendXmlError(res, { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' }, requestId);
          record(true);
        },
      );
    });
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const { port, host } = await listen(server, options.port, options.host);
  return {
    url: `http://${host}:${port}`,
    port,
    openConnections: () => sockets.size,
    close: () => closeServer(server, sockets),
  };
}

/**
 * Stops `server` and destroys its connections, resolving once every one has emitted 'close': the
 * server's own close callback can come first (it counts a socket gone as soon as it is destroyed),
 * and openConnections() must read 0 once close() has resolved.
 */
export async function closeServer(server: http.Server, sockets: Set<Socket>): Promise<void> {
  const closed = [...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
  for (const socket of sockets) socket.destroy();
  await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), ...closed]);
}

function sendXmlError(res: ServerResponse, refusal: Refusal, requestId: string): number {
  const text =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message><RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(refusal.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  return refusal.status;
}
