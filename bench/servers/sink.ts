import { createHash } from 'node:crypto';
import http from 'node:http';
import { heygenSuccessBody, heygenV3AssetBody } from './heygen-reply';

/**
 * The discard-sink upstream: counts the bytes of each body, checks them against Content-Length when
 * one was sent, and answers with HeyGen's success envelope. It keeps nothing, so every contender's
 * upstream costs the same and the sink never becomes what is measured.
 *
 * It speaks both APIs the project does, as cheaply as each allows:
 * - v1: any other POST (`/v1/asset`, and the direct contender's raw file) → v1's envelope;
 * - v3 `POST /v3/assets`: the multipart body is counted, not parsed; only the part's header (for
 *   the type) and the closing boundary are looked at, to answer the file's size;
 * - v3 direct upload: `POST /v3/assets/direct-uploads` (JSON) hands out an upload_url on this sink,
 *   `PUT /storage/{id}` counts the bytes (exactly size_bytes, and no credential), and
 *   `POST /v3/assets/{id}/complete` answers the asset once the PUT arrived with the same checksum.
 * With SINK_VERIFY=1 (the smoke run) the PUT's bytes are also hashed and checked against
 * checksum_sha256; the timed runs leave the hashing out, as it would be the sink's CPU on shared cores.
 */
const port = Number(process.env.PORT);
const verify = process.env.SINK_VERIFY === '1';
/** HeyGen's direct-upload cap (200 MiB), as its create answer says in max_bytes. */
const MAX_DIRECT_BYTES = 209_715_200;
let served = 0;

interface Pending {
  readonly size: number;
  readonly mimeType: string;
  readonly checksum: string;
  stored: boolean;
}
const pending = new Map<string, Pending>();

// A counter rather than random bytes: unique enough, and costs the sink nothing per request.
const nextId = (): string => (++served).toString(16).padStart(32, '0');

function reply(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function v3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  reply(res, status, JSON.stringify({ error: { code, message } }));
}

/** Counts a body to its end, then calls `done`; a body that differs from its Content-Length gets 400 instead. */
function drain(req: http.IncomingMessage, res: http.ServerResponse, onChunk: (chunk: Buffer) => void, done: (received: number) => void): void {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    onChunk(chunk);
  });
  req.on('end', () => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) !== received) {
      reply(res, 400, JSON.stringify({ code: 400, message: `sink got ${received} bytes, expected ${declared}` }));
      return;
    }
    done(received);
  });
}

/** A small JSON body (the create and complete calls), or undefined when it is not one. */
function json(req: http.IncomingMessage, res: http.ServerResponse, done: (value: Record<string, unknown> | undefined) => void): void {
  const chunks: Buffer[] = [];
  drain(req, res, (chunk) => chunks.push(chunk), () => {
    try {
      const value: unknown = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      done(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined);
    } catch {
      done(undefined);
    }
  });
}

function v1(req: http.IncomingMessage, res: http.ServerResponse): void {
  drain(req, res, () => undefined, () => {
    if (req.method !== 'POST') {
      reply(res, 400, JSON.stringify({ code: 400, message: `sink takes POST, not ${req.method ?? '?'}` }));
      return;
    }
    reply(res, 200, heygenSuccessBody(nextId(), req.headers['content-type'] ?? 'application/octet-stream'));
  });
}

/** `POST /v3/assets`: the file's size is the body less the part's header and the closing boundary. */
function v3Multipart(req: http.IncomingMessage, res: http.ServerResponse): void {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
  const closing = Buffer.from(`\r\n--${boundary?.[1] ?? boundary?.[2] ?? ''}--\r\n`);
  let head: Buffer = Buffer.alloc(0);
  let headLength: number | undefined;
  let tail: Buffer = Buffer.alloc(0);
  drain(
    req,
    res,
    (chunk) => {
      if (headLength === undefined && head.length < 4096) {
        head = Buffer.concat([head, chunk.subarray(0, 4096)]);
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) headLength = end + 4;
      }
      tail = chunk.length >= closing.length ? chunk.subarray(chunk.length - closing.length) : Buffer.concat([tail, chunk]).subarray(-closing.length);
    },
    (received) => {
      const type = /content-type:\s*([^\r\n;]+)/i.exec(head.subarray(0, headLength ?? 0).toString('latin1'))?.[1];
      if (boundary === null || headLength === undefined || type === undefined || !tail.equals(closing) || received < headLength + closing.length) {
        v3Error(res, 400, 'invalid_parameter', 'sink: not a one-part multipart/form-data body');
        return;
      }
      reply(res, 200, heygenV3AssetBody(nextId(), type, received - headLength - closing.length));
    },
  );
}

function v3Create(req: http.IncomingMessage, res: http.ServerResponse): void {
  json(req, res, (body) => {
    const size = body?.size_bytes;
    const mimeType = body?.content_type;
    const checksum = body?.checksum_sha256;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || typeof mimeType !== 'string' || typeof body?.filename !== 'string') {
      v3Error(res, 400, 'invalid_parameter', 'sink: filename, content_type and size_bytes are required');
      return;
    }
    if (typeof checksum !== 'string' || !/^[0-9a-f]{64}$/i.test(checksum)) {
      v3Error(res, 400, 'invalid_parameter', 'sink: checksum_sha256 must be 64 hex digits');
      return;
    }
    if (size > MAX_DIRECT_BYTES) {
      v3Error(res, 400, 'invalid_parameter', `sink: size_bytes exceeds max_bytes (${MAX_DIRECT_BYTES})`);
      return;
    }
    const id = nextId();
    pending.set(id, { size, mimeType, checksum: checksum.toLowerCase(), stored: false });
    const data = {
      asset_id: id,
      upload_url: `http://127.0.0.1:${port}/storage/${id}`,
      upload_headers: {},
      expires_in_seconds: 900,
      max_bytes: MAX_DIRECT_BYTES,
      status: 'pending_upload',
    };
    reply(res, 200, JSON.stringify({ data }));
  });
}

function storagePut(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
  const upload = pending.get(id);
  const hash = verify ? createHash('sha256') : undefined;
  drain(req, res, (chunk) => hash?.update(chunk), (received) => {
    const refusal =
      upload === undefined
        ? 'no such upload'
        : req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined
          ? 'a credential was sent to storage'
          : received !== upload.size || req.headers['content-length'] === undefined
            ? `got ${received} bytes, announced ${upload.size} (Content-Length ${req.headers['content-length'] ?? 'missing'})`
            : hash !== undefined && hash.digest('hex') !== upload.checksum
              ? 'the bytes do not match checksum_sha256'
              : undefined;
    if (upload === undefined || refusal !== undefined) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(`sink storage: ${refusal ?? ''}`);
      return;
    }
    upload.stored = true;
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  });
}

function v3Complete(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
  json(req, res, (body) => {
    const upload = pending.get(id);
    if (upload === undefined) return v3Error(res, 404, 'not_found', 'sink: no such asset');
    if (!upload.stored) return v3Error(res, 409, 'conflict', 'sink: nothing was uploaded yet');
    const checksum = body?.checksum_sha256;
    if (checksum !== undefined && (typeof checksum !== 'string' || checksum.toLowerCase() !== upload.checksum)) {
      return v3Error(res, 400, 'invalid_parameter', 'sink: checksum_sha256 differs from the one announced');
    }
    pending.delete(id);
    reply(res, 200, heygenV3AssetBody(id, upload.mimeType, upload.size));
  });
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/v3/assets') return v3Multipart(req, res);
  if (req.method === 'POST' && url === '/v3/assets/direct-uploads') return v3Create(req, res);
  const storage = /^\/storage\/([0-9a-f]+)$/.exec(url);
  if (req.method === 'PUT' && storage?.[1] !== undefined) return storagePut(req, res, storage[1]);
  const complete = /^\/v3\/assets\/([0-9a-f]+)\/complete$/.exec(url);
  if (req.method === 'POST' && complete?.[1] !== undefined) return v3Complete(req, res, complete[1]);
  return v1(req, res);
});

// Large uploads through slow contenders must not be cut by Node's default request timeout.
server.requestTimeout = 0;
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
