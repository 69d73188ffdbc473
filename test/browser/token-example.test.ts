import http from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import express from 'express';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { tokenServerApp } from '../../examples/token-server/app';
import { uploadTokenRoute } from '../../examples/token-server/upload-token-route';
import { CLIENT_ENTRY } from '../../src/dev/client-bundle';
import { ERROR_CATALOGUE } from '../../src/errors';
import { fixture, sha256 } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';
import { launchChromium } from './support/chromium';
import { type PageOrigin, servePages } from './support/page-origin';

/**
 * examples/token-server: a customer's backend (the trivial session and POST /upload-token) serves a
 * page whose browser code (browser/upload-with-token.ts) fetches a token and uploads with the client,
 * in Chromium, against a real proxy with UPLOAD_TOKEN_SECRET set in front of the v3 stand-in. A
 * signed-in user's upload lands; a signed-out user is refused by the backend before anything is
 * sent; an upload without a token, or with an expired or forged one, gets the proxy's own 401.
 */
const SECRET = 'the-shared-upload-token-secret-32-characters-or-more';
const OTHER_SECRET = 'not-the-proxys-secret-but-just-as-long-as-it-should-be';
const TOKEN_TTL_SECONDS = 300;
const CHUNK = 256 * 1024;
const png = fixture('sample.png');
const clip = sizedMedia('video/mp4', 3 * CHUNK);
const BROWSER_DIR = join(__dirname, '..', '..', 'examples', 'token-server', 'browser');

/** The example's browser code as the customer's bundler would ship it, plus the test's `run`. */
async function pageScript(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
import { uploadWithToken, TokenRefused } from './upload-with-token';
import { upload, isUploadError } from ${JSON.stringify(CLIENT_ENTRY)};
window.run = async (spec) => {
  const bytes = await (await fetch('/files/' + spec.file)).arrayBuffer();
  const file = new File([bytes], spec.name, { type: spec.type });
  try {
    const record = spec.withoutToken
      ? await upload(file, { baseUrl: spec.baseUrl, ...spec.options })
      : await uploadWithToken(file, { baseUrl: spec.baseUrl, tokenUrl: spec.tokenUrl, ...spec.options });
    return { record };
  } catch (error) {
    if (error instanceof TokenRefused) return { tokenRefused: { status: error.status, message: error.message } };
    if (isUploadError(error)) return { error: error.toJSON() };
    return { other: String(error) };
  }
};
document.body.dataset.ready = 'true';`,
      resolveDir: BROWSER_DIR,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
  });
  return result.outputFiles[0]!.text;
}

interface RunSpec {
  readonly file: string;
  readonly name: string;
  readonly type: string;
  readonly baseUrl: string;
  readonly tokenUrl?: string;
  readonly withoutToken?: boolean;
  readonly options?: Record<string, unknown>;
}

interface RunResult {
  readonly record?: { id: string };
  readonly tokenRefused?: { status: number; message: string };
  readonly error?: { code: string; message: string; status: number; requestId: string | null };
  readonly other?: string;
}

/**
 * The customer's backend: the example's app (sign-in and /upload-token) with the page on it; and two
 * token routes that mint wrongly on purpose, to show what the page hears then: /expired (a clock two
 * hours behind) and /forged (another secret).
 */
async function startCustomerBackend(script: string): Promise<PageOrigin> {
  const app = express();
  const files: Record<string, Buffer> = { 'photo.png': png.bytes, 'clip.mp4': clip };
  app.get('/', (_req, res) => {
    res.type('html').send('<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body><script type="module" src="/app.js"></script></body></html>');
  });
  app.get('/app.js', (_req, res) => res.type('text/javascript').send(script));
  app.get('/files/:name', (req, res) => {
    const bytes = files[req.params.name];
    if (bytes === undefined) res.status(404).end();
    else res.type('application/octet-stream').send(bytes);
  });
  const twoHoursAgo = (): number => Math.floor(Date.now() / 1000) - 2 * 60 * 60;
  app.use('/expired', uploadTokenRoute({ secret: SECRET, userOf: () => 'user-42', now: twoHoursAgo }));
  app.use('/forged', uploadTokenRoute({ secret: OTHER_SECRET, userOf: () => 'user-42' }));
  app.use(tokenServerApp({ secret: SECRET, ttlSeconds: TOKEN_TTL_SECONDS }));
  return servePages(http.createServer(app));
}

let browser: Browser;
let backend: PageOrigin;
let harness: V3Harness;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  backend = await startCustomerBackend(await pageScript());
  harness = await startV3Harness({ ALLOWED_ORIGINS: backend.origin, UPLOAD_TOKEN_SECRET: SECRET });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await backend?.close();
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

/** The customer's page, opened fresh; `toProxy` lists the requests it made to the proxy (preflights aside). */
async function openPage(): Promise<{ page: Page; toProxy: Request[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const toProxy: Request[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).origin === harness.url && request.method() !== 'OPTIONS') toProxy.push(request);
  });
  await page.goto(`${backend.origin}/`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return { page, toProxy };
}

async function signIn(page: Page, user: string): Promise<void> {
  const status = await page.evaluate(
    async (name) => (await fetch('/sign-in', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: name }) })).status,
    user,
  );
  expect(status).toBe(204);
}

function run(page: Page, spec: Omit<RunSpec, 'baseUrl'>): Promise<RunResult> {
  return page.evaluate((s) => (globalThis as unknown as { run(spec: RunSpec): Promise<RunResult> }).run(s), { ...spec, baseUrl: harness.url });
}

function claimsOf(authorization: string | undefined): Record<string, unknown> {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

const UNAUTHORIZED = { code: 'UNAUTHORIZED', status: 401, message: ERROR_CATALOGUE.UNAUTHORIZED.message };

it("a signed-in user's page fetches a token and uploads with it: multipart and tus land, each request carrying the user's token", async () => {
  const { page, toProxy } = await openPage();
  await signIn(page, 'user-42');
  const before = harness.standIn.assetsCreated();

  const small = await run(page, { file: 'photo.png', name: 'photo.png', type: 'image/png' });
  expect(small.error).toBeUndefined();
  expect(small.tokenRefused).toBeUndefined();
  const large = await run(page, { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options: { resumableAboveBytes: CHUNK, chunkSize: CHUNK } });
  expect(large.error).toBeUndefined();

  expect(harness.standIn.assetsCreated()).toBe(before + 2);
  const received = harness.standIn.received.filter((entry) => entry.route === 'assets').slice(-2);
  expect(received.map((entry) => entry.sha256)).toEqual([sha256(png.bytes), sha256(clip)]);
  expect([small.record!.id, large.record!.id]).toEqual(received.map((entry) => entry.assetId));

  const uploads = toProxy.filter((request) => new URL(request.url()).pathname !== '/v1/limits');
  expect(uploads.length).toBeGreaterThan(2);
  for (const request of uploads) {
    const claims = claimsOf(request.headers().authorization);
    expect(claims).toMatchObject({ sub: 'user-42', aud: 'heygen-upload-proxy' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(TOKEN_TTL_SECONDS);
  }
});

/**
 * The second PATCH of a resumable upload reaches the proxy with a token that has expired, as a token
 * does during a long upload: the proxy itself refuses it. `meanwhile` runs just before (a sign-out).
 */
async function expireTokenAtSecondPatch(page: Page, meanwhile: () => Promise<void> = () => Promise.resolve()): Promise<{ patchStatuses: number[]; tokenRequests: string[] }> {
  const expired = ((await (await fetch(`${backend.origin}/expired/upload-token`, { method: 'POST' })).json()) as { token: string }).token;
  let patches = 0;
  await page.route(
    (url) => url.origin === harness.url && url.pathname.startsWith('/v1/uploads/'),
    async (route) => {
      const request = route.request();
      if (request.method() !== 'PATCH' || ++patches !== 2) return route.continue();
      await meanwhile();
      return route.continue({ headers: { ...request.headers(), authorization: `Bearer ${expired}` } });
    },
  );
  const seen = { patchStatuses: [] as number[], tokenRequests: [] as string[] };
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/upload-token') seen.tokenRequests.push(request.url());
  });
  page.on('response', (response) => {
    if (response.request().method() === 'PATCH') seen.patchStatuses.push(response.status());
  });
  return seen;
}

const resumableClip = { file: 'clip.mp4', name: 'clip.mp4', type: 'video/mp4', options: { resumableAboveBytes: CHUNK, chunkSize: CHUNK } };

it('a token that expires between two PATCHes of a resumable upload is renewed from the backend once, and the upload goes on and lands once', async () => {
  const { page } = await openPage();
  await signIn(page, 'user-42');
  const seen = await expireTokenAtSecondPatch(page);
  const before = harness.standIn.assetsCreated();

  const result = await run(page, resumableClip);

  expect(result.error).toBeUndefined();
  expect(seen.patchStatuses).toContain(401);
  expect(seen.tokenRequests).toHaveLength(2);
  expect(harness.standIn.assetsCreated()).toBe(before + 1);
  const received = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
  expect(received.sha256).toBe(sha256(clip));
  expect(result.record!.id).toBe(received.assetId);
});

it("a renewal the backend refuses (the user signed out meanwhile) reaches the page as the backend's own refusal", async () => {
  const { page } = await openPage();
  await signIn(page, 'user-42');
  const seen = await expireTokenAtSecondPatch(page, () => page.context().clearCookies());
  const before = harness.standIn.assetsCreated();

  const result = await run(page, resumableClip);

  expect(result).toEqual({ tokenRefused: { status: 401, message: 'Sign in to upload.' } });
  expect(seen.tokenRequests).toHaveLength(2);
  expect(harness.standIn.assetsCreated()).toBe(before);
});

it('a signed-out page is refused by the backend, in its words, and sends nothing to the proxy', async () => {
  const { page, toProxy } = await openPage();
  const result = await run(page, { file: 'photo.png', name: 'photo.png', type: 'image/png' });
  expect(result).toEqual({ tokenRefused: { status: 401, message: 'Sign in to upload.' } });
  expect(toProxy).toEqual([]);
});

it("an upload without a token gets the proxy's 401 UNAUTHORIZED, code and words", async () => {
  const { page } = await openPage();
  const before = harness.standIn.assetsCreated();
  const result = await run(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', withoutToken: true });
  expect(result.error).toEqual({ ...UNAUTHORIZED, requestId: expect.any(String) as unknown });
  expect(harness.standIn.assetsCreated()).toBe(before);
});

it.each([
  ['an expired', '/expired/upload-token'],
  ['a forged', '/forged/upload-token'],
])("an upload with %s token gets the proxy's 401 UNAUTHORIZED, code and words", async (_kind, tokenUrl) => {
  const { page, toProxy } = await openPage();
  const before = harness.standIn.assetsCreated();
  const result = await run(page, { file: 'photo.png', name: 'photo.png', type: 'image/png', tokenUrl });
  expect(result.error).toEqual({ ...UNAUTHORIZED, requestId: expect.any(String) as unknown });
  // The token did go: the proxy refused it, not the page for want of one.
  const upload = toProxy.find((request) => new URL(request.url()).pathname === '/v1/asset')!;
  expect(claimsOf(upload.headers().authorization)).toMatchObject({ sub: 'user-42' });
  expect(harness.standIn.assetsCreated()).toBe(before);
});
