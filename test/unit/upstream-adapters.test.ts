import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { SizedUpload, StreamedUpload, Upstream } from '../../src/heygen/upstream';
import { UpstreamFailure } from '../../src/heygen/upstream-failure';
import { createV1Upstream } from '../../src/heygen/v1/v1-upstream';
import { createV3Upstream, V3_MULTIPART_MAX_BYTES } from '../../src/heygen/v3/v3-upstream';
import { listen } from '../../src/listen';
import { Secret } from '../../src/secret';

const KEY = new Secret('adapter-key-0123456789abcdef');

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** What the HeyGen in this process does with the n-th request (from 0): answer, or drop the connection unanswered. */
type Reply = { status: number; body: unknown } | 'drop';

/** A HeyGen on loopback in this process: answers as the test says and keeps every request, body included. */
async function heygen(reply: (seen: Seen, index: number) => Reply) {
  const seen: Seen[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(request);
      const answer = reply(request, seen.length - 1);
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  const { port, host } = await listen(server, 0, '127.0.0.1');
  const base = `http://${host}:${port}`;
  return {
    base,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const V1_ASSET = { code: 100, data: { id: 'v1-asset', file_type: 'audio', url: 'https://cdn.example.com/a.mp3', image_key: null, created_ts: 1 } };
const V3_ASSET = { data: { asset_id: 'v3-asset', url: 'https://cdn.example.com/a.mp3' } };

function sized(bytes: Buffer, overrides: Partial<SizedUpload> = {}): SizedUpload & { opened: () => number } {
  let opened = 0;
  return {
    delivery: 'sized',
    mediaType: 'audio/mpeg',
    mediaKind: 'audio',
    filename: 'song.mp3',
    idempotencyKey: 'hup-adapters',
    size: bytes.length,
    checksum: () => Promise.resolve(createHash('sha256').update(bytes).digest('hex')),
    open: () => {
      opened += 1;
      return Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]);
    },
    opened: () => opened,
    ...overrides,
  };
}

function streamed(bytes: Buffer, controller = new AbortController()): StreamedUpload {
  return {
    delivery: 'streamed',
    mediaType: 'audio/mpeg',
    mediaKind: 'audio',
    filename: 'song.mp3',
    idempotencyKey: 'hup-adapters',
    body: Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]),
    signal: controller.signal,
  };
}

const BYTES = Buffer.from('the bytes of a checked file, whatever they are');

async function failureOf(sending: Promise<unknown>): Promise<UpstreamFailure> {
  const failure = await sending.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(UpstreamFailure);
  return failure as UpstreamFailure;
}

describe('the v1 adapter with each kind of upload', () => {
  let upstream: Upstream;
  afterEach(() => upstream.close());

  it('sends a sized upload as the raw body with its Content-Length, and resends it once after a dropped connection', async () => {
    const server = await heygen((_seen, index) => (index === 0 ? 'drop' : { status: 200, body: V1_ASSET }));
    upstream = createV1Upstream({ uploadUrl: `${server.base}/v1/asset`, apiKey: KEY, timeoutMs: 2000 });
    const upload = sized(BYTES);
    try {
      await expect(upstream.send(upload)).resolves.toMatchObject({ id: 'v1-asset', file_type: 'audio' });
      expect(server.seen).toHaveLength(2);
      expect(upload.opened()).toBe(2);
      const [, sent] = server.seen;
      expect(sent!.headers['content-length']).toBe(String(BYTES.length));
      expect(sent!.headers['content-type']).toBe('audio/mpeg');
      expect(sent!.headers['x-api-key']).toBe(KEY.reveal());
      expect(sent!.body.equals(BYTES)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('sends a streamed upload chunked, and never resends it', async () => {
    const server = await heygen(() => 'drop');
    upstream = createV1Upstream({ uploadUrl: `${server.base}/v1/asset`, apiKey: KEY, timeoutMs: 2000 });
    try {
      const failure = await failureOf(upstream.send(streamed(BYTES)));
      expect(failure.retryable).toBe(true);
      expect(server.seen).toHaveLength(1);
      expect(server.seen[0]!.headers['transfer-encoding']).toBe('chunked');
      expect(server.seen[0]!.headers['content-length']).toBeUndefined();
      expect(server.seen[0]!.body.equals(BYTES)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('stops a streamed upload when its signal aborts', async () => {
    const server = await heygen(() => ({ status: 200, body: V1_ASSET }));
    // A body that never ends: without the abort, only the 10 s watchdog would stop it.
    upstream = createV1Upstream({ uploadUrl: `${server.base}/v1/asset`, apiKey: KEY, timeoutMs: 10_000 });
    const controller = new AbortController();
    const body = new PassThrough();
    body.write(BYTES);
    try {
      const started = performance.now();
      const sending = upstream.send({ ...streamed(BYTES, controller), body });
      setTimeout(() => controller.abort(), 20);
      const failure = await failureOf(sending);
      expect(failure.kind).not.toBe('timeout');
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(body.destroyed).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('the v3 adapter with each kind of upload', () => {
  let upstream: Upstream;
  afterEach(() => upstream.close());

  it('sends a sized upload up to its multipart cap as multipart with a Content-Length, resending it after a 5xx', async () => {
    const server = await heygen((_seen, index) => (index === 0 ? { status: 503, body: { error: { code: 'unavailable' } } } : { status: 200, body: V3_ASSET }));
    upstream = createV3Upstream({ baseUrl: server.base, apiKey: KEY, timeoutMs: 2000 });
    const upload = sized(BYTES);
    try {
      await expect(upstream.send(upload)).resolves.toEqual({ id: 'v3-asset', file_type: 'audio', url: V3_ASSET.data.url, image_key: null, created_ts: null });
      expect(server.seen.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /v3/assets', 'POST /v3/assets']);
      const sent = server.seen[1]!;
      expect(Number(sent.headers['content-length'])).toBe(sent.body.length);
      expect(sent.headers['idempotency-key']).toBe('hup-adapters');
      expect(sent.body.includes(BYTES)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('sends a streamed upload as chunked multipart, one attempt even after a 5xx', async () => {
    const server = await heygen(() => ({ status: 503, body: { error: { code: 'unavailable' } } }));
    upstream = createV3Upstream({ baseUrl: server.base, apiKey: KEY, timeoutMs: 2000 });
    try {
      const failure = await failureOf(upstream.send(streamed(BYTES)));
      expect([failure.retryable, failure.upstreamStatus]).toEqual([true, 503]);
      expect(server.seen.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /v3/assets']);
      expect(server.seen[0]!.headers['transfer-encoding']).toBe('chunked');
      expect(server.seen[0]!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      expect(server.seen[0]!.body.includes(BYTES)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('sends a sized upload above its multipart cap by direct upload, announcing its size and checksum', async () => {
    const big = Buffer.alloc(V3_MULTIPART_MAX_BYTES + 1, 3);
    const server = await heygen((seen) => {
      if (seen.url === '/v3/assets/direct-uploads') return { status: 200, body: { data: { asset_id: 'v3-asset', upload_url: `${serverBase()}/storage/object` } } };
      if (seen.url === '/storage/object') return { status: 200, body: {} };
      return { status: 200, body: V3_ASSET };
    });
    const serverBase = (): string => server.base;
    upstream = createV3Upstream({ baseUrl: server.base, apiKey: KEY, timeoutMs: 5000 });
    const upload = sized(big, { open: () => big });
    try {
      await expect(upstream.send(upload)).resolves.toMatchObject({ id: 'v3-asset', file_type: 'audio' });
      expect(server.seen.map((request) => `${request.method} ${request.url}`)).toEqual([
        'POST /v3/assets/direct-uploads',
        'PUT /storage/object',
        'POST /v3/assets/v3-asset/complete',
      ]);
      const [create, put, complete] = server.seen;
      expect(JSON.parse(create!.body.toString())).toMatchObject({ size_bytes: big.length, checksum_sha256: await upload.checksum() });
      expect(put!.body.equals(big)).toBe(true);
      expect(put!.headers['x-api-key']).toBeUndefined();
      expect(JSON.parse(complete!.body.toString())).toEqual({ checksum_sha256: await upload.checksum() });
    } finally {
      await server.close();
    }
  });
});

describe.each([
  ['v1', (base: string) => createV1Upstream({ uploadUrl: `${base}/v1/asset`, apiKey: KEY, timeoutMs: 2000 })],
  ['v3', (base: string) => createV3Upstream({ baseUrl: base, apiKey: KEY, timeoutMs: 2000 })],
])('the %s adapter keeps the key out of whatever it throws', (_version, create) => {
  it('from what HeyGen says', async () => {
    const server = await heygen(() => ({ status: 400, body: { code: 400, message: `bad key ${KEY.reveal()}`, error: { code: 'invalid', message: `bad key ${KEY.reveal()}` } } }));
    const upstream = create(server.base);
    try {
      const failure = await failureOf(upstream.send(sized(BYTES)));
      expect(failure.message).toContain('[redacted]');
      expect(failure.message).not.toContain(KEY.reveal());
    } finally {
      upstream.close();
      await server.close();
    }
  });

  it('from an error that is not an UpstreamFailure', async () => {
    const server = await heygen(() => ({ status: 200, body: {} }));
    const upstream = create(server.base);
    const upload = sized(BYTES, {
      open: () => {
        throw new TypeError(`could not open ${KEY.reveal()}`);
      },
    });
    try {
      const failure = await failureOf(upstream.send(upload));
      expect(failure.message).toBe('HeyGen exchange failed: TypeError: could not open [redacted]');
    } finally {
      upstream.close();
      await server.close();
    }
  });
});
