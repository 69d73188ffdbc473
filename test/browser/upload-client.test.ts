import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { Secret } from '../../src/secret';
import { mintUploadToken } from '../../src/http/upload-token';
import { fixture, sha256 } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';
import { launchChromium } from './support/chromium';
import { type ClientPageServer, startClientPageServer } from './support/client-page';
import { throttleUploads } from './support/demo-stack';

/**
 * client/ (upload()) in Chromium against a real proxy in front of the v3 stand-in: both paths with
 * progress, the error shape for each kind of failure, retries (and what is never retried),
 * cancellation, and tus resumes within a call and across calls.
 */
const KIB = 1024;
const IMAGE_LIMIT = 256 * KIB;
const CHUNK = 256 * KIB;
const png = fixture('sample.png');
/** sizedMedia's padding is random: one clip, made once, is what the page uploads and what the stand-in must receive. */
const clip = sizedMedia('video/mp4', 4 * CHUNK);

interface ErrorShape {
  readonly code: string;
  readonly message: string;
  readonly status: number;
  readonly requestId: string | null;
}

interface RunResult {
  readonly record?: { id: string; size_bytes: number; media_type: string };
  readonly error?: ErrorShape;
  readonly retryAfterSeconds?: number | null;
  readonly progress: Array<[number, number, string]>;
  readonly retries: Array<[string, number]>;
}

interface UploadSpec {
  readonly file: string;
  readonly name: string;
  readonly type: string;
  readonly options: Record<string, unknown>;
  readonly cancelAfterBytes?: number;
}

interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
}

let browser: Browser;
let pages: ClientPageServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  pages = await startClientPageServer();
  pages.putFile('photo.png', png.bytes);
  pages.putFile('huge.png', sizedMedia('image/png', 4 * IMAGE_LIMIT));
  pages.putFile('notes.txt', Buffer.from('plain text, not media\n'.repeat(100)));
  pages.putFile('clip.mp4', clip);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

/** A fresh context with the client page loaded; `sent` lists every request the page made to the proxy. */
async function openPage(origin: string, proxyUrl: string): Promise<{ page: Page; sent: SentRequest[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const sent: SentRequest[] = [];
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (url.origin === new URL(proxyUrl).origin && request.method() !== 'OPTIONS') sent.push({ method: request.method(), path: url.pathname, headers: request.headers() });
  });
  await page.goto(`${origin}/`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return { page, sent };
}

function runUpload(page: Page, spec: UploadSpec): Promise<RunResult> {
  return page.evaluate((s) => (globalThis as unknown as { runUpload(spec: UploadSpec): Promise<RunResult> }).runUpload(s), spec);
}

function count(sent: SentRequest[], method: string, path: string | RegExp): number {
  return sent.filter((request) => request.method === method && (typeof path === 'string' ? request.path === path : path.test(request.path))).length;
}

const UPLOAD_PATH = /^\/v1\/uploads\/[0-9a-f]{32}$/;

/** The second tus PATCH reaches the proxy and is stored; its answer never reaches the page. */
async function loseSecondPatchAnswer(page: Page): Promise<void> {
  let patches = 0;
  await page.route(/\/v1\/uploads\/[0-9a-f]{32}$/, async (route) => {
    if (route.request().method() === 'PATCH' && ++patches === 2) {
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
}

describe('upload() against a proxy that lists the page', () => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness({ ALLOWED_ORIGINS: pages.origin, MAX_IMAGE_BYTES: String(IMAGE_LIMIT) });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('uploads a small file in one multipart POST with an Idempotency-Key, reporting progress up to the whole file', async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    const before = harness.standIn.assetsCreated();
    const result = await runUpload(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url } });
    expect(result.error).toBeUndefined();
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    const received = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
    expect(received.sha256).toBe(sha256(png.bytes));
    expect(result.record).toMatchObject({ id: received.assetId, size_bytes: png.bytes.length, media_type: 'image/png' });
    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /v1/limits', 'POST /v1/asset']);
    expect(sent[1]!.headers['idempotency-key']).toMatch(/^hup-web-[0-9a-f]{32}$/);
    expect(result.progress.length).toBeGreaterThan(0);
    expect(result.progress.at(-1)).toEqual([png.bytes.length, png.bytes.length, 'multipart']);
  });

  it('uploads a file over the threshold resumably (tus) in chunks, reporting progress up to the whole file', async () => {
    const bytes = clip;
    const { page, sent } = await openPage(pages.origin, harness.url);
    const before = harness.standIn.assetsCreated();
    const result = await runUpload(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options: { baseUrl: harness.url, resumableAboveBytes: CHUNK, chunkSize: CHUNK } });
    expect(result.error).toBeUndefined();
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    const received = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
    expect(received.sha256).toBe(sha256(bytes));
    expect(result.record).toMatchObject({ id: received.assetId, size_bytes: bytes.length, media_type: 'video/mp4' });
    expect(count(sent, 'POST', '/v1/uploads')).toBe(1);
    expect(count(sent, 'POST', '/v1/asset')).toBe(0);
    expect(count(sent, 'PATCH', UPLOAD_PATH)).toBe(4);
    const loaded = result.progress.map(([sentBytes]) => sentBytes);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(result.progress.at(-1)).toEqual([bytes.length, bytes.length, 'resumable']);
  });

  it('refuses a file over its type\'s limit from /v1/limits, with the proxy\'s code, status and message, sending nothing', async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    const result = await runUpload(page, { file: 'huge.png', name: 'huge.png', type: 'image/png', options: { baseUrl: harness.url } });
    expect(result.error).toEqual({ code: 'FILE_TOO_LARGE', status: 413, message: 'Image files may be at most 262144 bytes.', requestId: null });
    expect(count(sent, 'POST', '/v1/asset')).toBe(0);
  });

  it("with the local check off, reports the proxy's own 413 (the same code and message) after one request", async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    const result = await runUpload(page, { file: 'huge.png', name: 'huge.png', type: 'image/png', options: { baseUrl: harness.url, checkLimits: false } });
    expect(result.error).toEqual({ code: 'FILE_TOO_LARGE', status: 413, message: 'Image files may be at most 262144 bytes.', requestId: expect.any(String) as unknown });
    expect(count(sent, 'POST', '/v1/asset')).toBe(1);
    expect(count(sent, 'GET', '/v1/limits')).toBe(0);
  });

  it("reports the proxy's 415 for a type it does not take, and does not resend it", async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    const result = await runUpload(page, { file: 'notes.txt', name: 'notes.txt', type: 'text/plain', options: { baseUrl: harness.url } });
    expect(result.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, requestId: expect.any(String) as unknown });
    expect(result.error!.message).toContain('text/plain');
    expect(count(sent, 'POST', '/v1/asset')).toBe(1);
  });

  it('reports a refused origin (no readable answer) as NETWORK_ERROR with status 0, after retrying it as a network failure', async () => {
    const { page, sent } = await openPage(pages.foreignOrigin, harness.url);
    const result = await runUpload(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url, retryDelaysMs: [0, 0] } });
    expect(result.error).toMatchObject({ code: 'NETWORK_ERROR', status: 0, requestId: null });
    // The browser cannot tell a refused origin from a dropped connection: both are retried, then surfaced.
    expect(count(sent, 'GET', '/v1/limits')).toBe(3);
    expect(result.retries).toEqual([['NETWORK_ERROR', 1], ['NETWORK_ERROR', 2]]);
    expect(count(sent, 'POST', '/v1/asset')).toBe(0);
  });

  it('resends a multipart upload whose answer was lost with the same Idempotency-Key, and gets the one asset', async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    let lost = 0;
    // The proxy gets the first POST and creates the asset; the page sees the connection drop.
    await page.route(`${harness.url}/v1/asset`, async (route) => {
      if (route.request().method() === 'POST' && lost === 0) {
        lost += 1;
        await route.fetch();
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    const before = harness.standIn.assetsCreated();
    const result = await runUpload(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url, retryDelaysMs: [0] } });
    expect(result.error).toBeUndefined();
    expect(lost).toBe(1);
    const posts = sent.filter((request) => request.method === 'POST' && request.path === '/v1/asset');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    expect(result.record!.id).toBe(harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.assetId);
  });

  it('resumes a tus upload from the server\'s offset after a chunk\'s answer is lost, within the same call', async () => {
    const bytes = clip;
    const { page, sent } = await openPage(pages.origin, harness.url);
    await loseSecondPatchAnswer(page);
    const result = await runUpload(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options: { baseUrl: harness.url, resumableAboveBytes: CHUNK, chunkSize: CHUNK, retryDelaysMs: [0] } });
    expect(result.error).toBeUndefined();
    expect(harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
    expect(count(sent, 'POST', '/v1/uploads')).toBe(1);
    expect(count(sent, 'HEAD', UPLOAD_PATH)).toBe(1);
    expect(result.retries).toEqual([['NETWORK_ERROR', 1]]);
    // Offsets 0 and CHUNK, then (after the HEAD) on from 2 × CHUNK: the stored chunk is not sent again.
    expect(sent.filter((request) => request.method === 'PATCH').map((request) => Number(request.headers['upload-offset']))).toEqual([0, CHUNK, 2 * CHUNK, 3 * CHUNK]);
  });

  it('resumes an interrupted tus upload on the next upload() of the same file, from the URL it kept', async () => {
    const bytes = clip;
    const { page, sent } = await openPage(pages.origin, harness.url);
    await loseSecondPatchAnswer(page);
    const options = { baseUrl: harness.url, resumableAboveBytes: CHUNK, chunkSize: CHUNK, retryDelaysMs: [] };
    const first = await runUpload(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options });
    expect(first.error).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
    const before = harness.standIn.assetsCreated();
    const second = await runUpload(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options });
    expect(second.error).toBeUndefined();
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    expect(harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
    expect(count(sent, 'POST', '/v1/uploads')).toBe(1);
    expect(count(sent, 'HEAD', UPLOAD_PATH)).toBe(1);
    expect(sent.filter((request) => request.method === 'PATCH').map((request) => Number(request.headers['upload-offset']))).toEqual([0, CHUNK, 2 * CHUNK, 3 * CHUNK]);
  });

  it('cancels a multipart upload through its AbortSignal: CANCELLED, status 0, no asset', async () => {
    pages.putFile('slow.png', sizedMedia('image/png', 200 * KIB));
    const { page } = await openPage(pages.origin, harness.url);
    await throttleUploads(page, 64 * KIB);
    const before = harness.standIn.assetsCreated();
    const result = await runUpload(page, { file: 'slow.png', name: 'slow.png', type: 'image/png', options: { baseUrl: harness.url }, cancelAfterBytes: 1 });
    expect(result.error).toEqual({ code: 'CANCELLED', status: 0, message: 'The upload was cancelled.', requestId: null });
    expect(result.progress.at(-1)![0]).toBeLessThan(200 * KIB);
    expect(harness.standIn.assetsCreated()).toBe(before);
  });

  it('cancels a tus upload: CANCELLED, and the upload is ended on the server (DELETE)', async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    await throttleUploads(page, 128 * KIB);
    const result = await runUpload(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options: { baseUrl: harness.url, resumableAboveBytes: CHUNK, chunkSize: CHUNK }, cancelAfterBytes: CHUNK + 1 });
    expect(result.error).toMatchObject({ code: 'CANCELLED', status: 0 });
    const created = sent.find((request) => request.method === 'PATCH')!.path;
    // upload() rejects only once its DELETE has been answered.
    expect(count(sent, 'DELETE', created)).toBe(1);
    const head = await fetch(`${harness.url}${created}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(head.status).toBe(404);
  });
});

describe('upload() against a rate-limited proxy', () => {
  it('surfaces RATE_LIMITED (429, Retry-After) without resending when the wait is longer than it will hold on', async () => {
    const harness = await startV3Harness({ ALLOWED_ORIGINS: pages.origin, RATE_LIMIT_MAX: '1' });
    try {
      const { page, sent } = await openPage(pages.origin, harness.url);
      const spec = { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url } };
      expect((await runUpload(page, spec)).error).toBeUndefined();
      const second = await runUpload(page, spec);
      expect(second.error).toMatchObject({ code: 'RATE_LIMITED', status: 429, requestId: expect.any(String) as unknown });
      expect(second.retryAfterSeconds).toBeGreaterThan(30);
      expect(second.retries).toEqual([]);
      expect(count(sent, 'POST', '/v1/asset')).toBe(2);
    } finally {
      await harness.close();
    }
  });

  it('waits out a short Retry-After and resends under the same Idempotency-Key', async () => {
    const harness = await startV3Harness({ ALLOWED_ORIGINS: pages.origin, RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '1000' });
    try {
      const { page, sent } = await openPage(pages.origin, harness.url);
      const spec = { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url } };
      expect((await runUpload(page, spec)).error).toBeUndefined();
      const before = harness.standIn.assetsCreated();
      const second = await runUpload(page, spec);
      expect(second.error).toBeUndefined();
      expect(second.retries.map(([code]) => code)).toContain('RATE_LIMITED');
      expect(harness.standIn.assetsCreated()).toBe(before + 1);
      const posts = sent.filter((request) => request.method === 'POST').slice(1);
      expect(posts.length).toBeGreaterThanOrEqual(2);
      expect(new Set(posts.map((request) => request.headers['idempotency-key'])).size).toBe(1);
      expect(harness.logs.text).toContain('RATE_LIMITED');
    } finally {
      await harness.close();
    }
  });
});

describe('upload() against a proxy that requires upload tokens', () => {
  const SECRET = 'a-test-upload-token-secret-of-32-characters-or-more';
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness({ ALLOWED_ORIGINS: pages.origin, UPLOAD_TOKEN_SECRET: SECRET });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('sends the token as Authorization: Bearer on both paths, and the uploads go through', async () => {
    const token = mintUploadToken(new Secret(SECRET), 'user-42');
    const { page, sent } = await openPage(pages.origin, harness.url);
    const small = await runUpload(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url, token } });
    expect(small.error).toBeUndefined();
    const large = await runUpload(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options: { baseUrl: harness.url, token, resumableAboveBytes: CHUNK, chunkSize: CHUNK } });
    expect(large.error).toBeUndefined();
    const uploads = sent.filter((request) => request.path !== '/v1/limits');
    expect(uploads.length).toBeGreaterThan(2);
    for (const request of uploads) expect(request.headers.authorization).toBe(`Bearer ${token}`);
  });

  it("without a token reports the proxy's 401 UNAUTHORIZED after one request", async () => {
    const { page, sent } = await openPage(pages.origin, harness.url);
    const result = await runUpload(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', options: { baseUrl: harness.url } });
    expect(result.error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, requestId: expect.any(String) as unknown });
    expect(count(sent, 'POST', '/v1/asset')).toBe(1);
  });
});
