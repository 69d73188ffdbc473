import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../../src/listen';
import { retryAfterSeconds } from '../../src/heygen/heygen-http';
import { scrubSecret } from '../../src/heygen/scrub-secret';
import type { SizedUpload } from '../../src/heygen/upstream';
import { UpstreamFailure } from '../../src/heygen/upstream-failure';
import { createV3Upstream } from '../../src/heygen/v3/v3-upstream';
import { Secret } from '../../src/secret';

const KEY = new Secret('unit-key-0123456789abcdef');

/** A HeyGen whose direct-upload answer the test writes, and a record of every request it got. */
async function fakeHeygen(directUpload: (storageUrl: string) => unknown) {
  const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.once('end', () => {
      const body = req.url === '/v3/assets/direct-uploads' ? directUpload(`${base}/storage/object`) : { error: { code: 'not_found' } };
      res.writeHead(req.url === '/v3/assets/direct-uploads' ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  const { port, host } = await listen(server, 0, '127.0.0.1');
  const base = `http://${host}:${port}`;
  return { base, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function bigUpload(size: number): SizedUpload {
  const bytes = Buffer.alloc(size, 1);
  return {
    delivery: 'sized',
    mediaType: 'video/mp4',
    mediaKind: 'video',
    filename: 'clip.mp4',
    open: () => bytes,
    size,
    checksum: () => Promise.resolve(createHash('sha256').update(bytes).digest('hex')),
    idempotencyKey: 'hup-unit',
  };
}

describe('the v3 adapter before any byte goes to storage', () => {
  it('refuses a file above the max_bytes HeyGen returns (413 kind), and PUTs nothing', async () => {
    const heygen = await fakeHeygen((url) => ({ data: { asset_id: 'a1', upload_url: url, upload_headers: {}, max_bytes: 40_000_000 } }));
    const upstream = createV3Upstream({ baseUrl: heygen.base, apiKey: KEY, timeoutMs: 2000 });
    try {
      const failure = await upstream.send(bigUpload(40_000_001)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UpstreamFailure);
      expect((failure as UpstreamFailure).kind).toBe('too-large');
      expect(heygen.seen.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /v3/assets/direct-uploads']);
    } finally {
      upstream.close();
      await heygen.close();
    }
  });

  it('refuses to send a prescribed header that would carry a credential to storage', async () => {
    const heygen = await fakeHeygen((url) => ({ data: { asset_id: 'a2', upload_url: url, upload_headers: { Authorization: 'Bearer x' } } }));
    const upstream = createV3Upstream({ baseUrl: heygen.base, apiKey: KEY, timeoutMs: 2000 });
    try {
      await expect(upstream.send(bigUpload(33_000_000))).rejects.toThrow(/credential header/);
      expect(heygen.seen.filter((request) => request.method === 'PUT')).toEqual([]);
    } finally {
      upstream.close();
      await heygen.close();
    }
  });

  it('sends the key to HeyGen\'s API as x-api-key, with the upload\'s Idempotency-Key', async () => {
    const heygen = await fakeHeygen((url) => ({ data: { asset_id: 'a3', upload_url: url, max_bytes: 10 } }));
    const upstream = createV3Upstream({ baseUrl: heygen.base, apiKey: KEY, timeoutMs: 2000 });
    try {
      await upstream.send(bigUpload(33_000_000)).catch(() => undefined);
      expect(heygen.seen[0]!.headers['x-api-key']).toBe(KEY.reveal());
      expect(heygen.seen[0]!.headers['idempotency-key']).toBe('hup-unit');
    } finally {
      upstream.close();
      await heygen.close();
    }
  });
});

/** A HeyGen that takes one multipart asset and keeps the body it got, byte for byte. */
async function recordingHeygen() {
  const bodies: Buffer[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      bodies.push(Buffer.concat(chunks));
      const body = { data: { asset_id: 'a4', url: 'https://resource2.heygen.ai/image/a4/original' } };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  const { port, host } = await listen(server, 0, '127.0.0.1');
  return { base: `http://${host}:${port}`, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the v3 adapter\'s multipart file name', () => {
  it.each([
    ['a UTF-8 name, raw', 'Café 😀.png', 'filename="Café 😀.png"'],
    ['a quote, CR and LF, percent-escaped as browsers do', 'a"b\r\nc.png', 'filename="a%22b%0D%0Ac.png"'],
  ])('sends %s in filename="..." and no filename*', async (_case, filename, parameter) => {
    const heygen = await recordingHeygen();
    const upstream = createV3Upstream({ baseUrl: heygen.base, apiKey: KEY, timeoutMs: 2000 });
    const bytes = Buffer.from('stand-in bytes');
    try {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await upstream.send({ delivery: 'sized', mediaType: 'image/png', mediaKind: 'image', filename, open: () => bytes, size: bytes.length, checksum: () => Promise.resolve(sha256), idempotencyKey: 'hup-unit' });
      const [body] = heygen.bodies;
      const disposition = /^Content-Disposition: [^\r\n]*/m.exec(body!.toString('utf8'))?.[0];
      expect(disposition).toBe(`Content-Disposition: form-data; name="file"; ${parameter}`);
    } finally {
      upstream.close();
      await heygen.close();
    }
  });
});

describe('scrubSecret', () => {
  it.each([
    ['as it is', KEY.reveal()],
    ['upper-cased', KEY.reveal().toUpperCase()],
    ['URL-encoded', encodeURIComponent(KEY.reveal())],
    ['base64', Buffer.from(KEY.reveal()).toString('base64')],
    ['base64url', Buffer.from(KEY.reveal()).toString('base64url')],
  ])('takes the key out %s', (_form, echoed) => {
    const scrubbed = scrubSecret(`HeyGen said: invalid key ${echoed} (retry)`, KEY);
    expect(scrubbed).toBe('HeyGen said: invalid key [redacted] (retry)');
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [undefined, 1],
    ['7', 7],
    ['0', 1],
    ['86400', 300],
    ['soon', 1],
  ])('%s -> %d', (header, seconds) => {
    expect(retryAfterSeconds(header)).toBe(seconds);
  });
});
