import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../browser/support/chromium';
import { type PageOrigin, servePages } from '../browser/support/page-origin';
import { fixture, paddedFile } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { REPO_ROOT, readDoc } from './support/markdown';

/**
 * The code in docs/browser.md, run as written in Chromium against the proxy: its `proxyError` and each
 * integration (fetch, XHR, Uppy, Dropzone, FilePond, axios, tus-js-client) must report a success, the proxy's own
 * 413 (code and message, one request: no retry of a refusal), and a refused origin (no answer at all,
 * status 0) as NETWORK_ERROR rather than throwing. The snippets are taken from the page itself, so
 * editing an example edits what runs here.
 */
const KIB = 1024;
const IMAGE_LIMIT = 256 * KIB;
const png = fixture('sample.png');

const VENDOR: Readonly<Record<string, string>> = {
  '/vendor/uppy.min.js': 'node_modules/uppy/dist/uppy.min.js',
  '/vendor/dropzone-min.js': 'node_modules/dropzone/dist/dropzone-min.js',
  '/vendor/filepond.min.js': 'node_modules/filepond/dist/filepond.min.js',
  '/vendor/axios.min.js': 'node_modules/axios/dist/axios.min.js',
  '/vendor/tus.min.js': 'node_modules/tus-js-client/dist/tus.min.js',
};

interface Variant {
  /** Text that picks the snippet's code block out of docs/browser.md (exactly one block has it). */
  readonly marker: string;
  readonly bundle?: string;
  /** What hands `file` to the snippet's widget (or calls its function). */
  readonly start: string;
}

const VARIANTS = {
  fetch: { marker: 'response = await fetch(`${PROXY}/v1/asset`', start: 'upload(file).then(show, (e) => showError(e.status, e.code, e.message));' },
  xhr: { marker: 'new XMLHttpRequest()', start: 'upload(file, onProgress).then(show, (e) => showError(e.status, e.code, e.message));' },
  uppy: { marker: 'Uppy.XHRUpload', bundle: '/vendor/uppy.min.js', start: 'uppy.addFile({ name: file.name, type: file.type, data: file }); uppy.upload();' },
  dropzone: { marker: 'new Dropzone(', bundle: '/vendor/dropzone-min.js', start: 'dz.addFile(file);' },
  filepond: { marker: 'FilePond.create(', bundle: '/vendor/filepond.min.js', start: 'document.body.appendChild(pond.element); pond.addFile(file);' },
  axios: { marker: 'axios.post(', bundle: '/vendor/axios.min.js', start: '' },
  tus: { marker: 'new tus.Upload(', bundle: '/vendor/tus.min.js', start: '' },
} as const satisfies Record<string, Variant>;
type VariantName = keyof typeof VARIANTS;

function jsBlocks(): string[] {
  return [...readDoc('docs/browser.md').matchAll(/^```js\n([\s\S]*?)^```/gm)].map((block) => block[1]!);
}

function blockWith(marker: string): string {
  const found = jsBlocks().filter((block) => block.includes(marker));
  if (found.length !== 1) throw new Error(`docs/browser.md: ${found.length} js blocks contain ${marker}, expected 1`);
  return found[0]!;
}

function pageFor(name: VariantName, proxyUrl: string): string {
  const variant: Variant = VARIANTS[name];
  return `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title></head><body><div id="drop"></div>
${variant.bundle ? `<script src="${variant.bundle}"></script>` : ''}
<script>
window.outcomes = [];
const PROXY = ${JSON.stringify(proxyUrl)};
function show(record) { outcomes.push({ state: 'success', id: record && record.id }); }
function showError(status, code, message) { outcomes.push({ state: 'error', status, code, message }); }
function onProgress() {}
${blockWith('function proxyError(')}
window.runSnippet = function (file) {
${blockWith(variant.marker)}
${variant.start}
};
</script></body></html>`;
}

async function startPageOrigin(proxyUrl: () => string): Promise<PageOrigin> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page');
    const vendor = VENDOR[url.pathname];
    if (vendor !== undefined) {
      readFile(path.join(REPO_ROOT, vendor)).then(
        (bytes) => res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(bytes),
        () => res.writeHead(500).end(),
      );
      return;
    }
    const name = url.searchParams.get('variant') as VariantName | null;
    if (url.pathname !== '/' || name === null || !(name in VARIANTS)) {
      res.writeHead(404).end();
      return;
    }
    let html: string;
    try {
      html = pageFor(name, proxyUrl());
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  });
  return servePages(server);
}

interface Outcome {
  readonly state: 'success' | 'error';
  readonly id?: string;
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
}

let browser: Browser;
let harness: V3Harness;
let allowed: PageOrigin;
let refused: PageOrigin;
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  allowed = await startPageOrigin(() => harness.url);
  refused = await startPageOrigin(() => harness.url);
  harness = await startV3Harness({ ALLOWED_ORIGINS: allowed.origin, MAX_IMAGE_BYTES: String(IMAGE_LIMIT) });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await allowed?.close();
  await refused?.close();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

/** Opens the variant's page on `site`, hands its snippet a file, and waits for what it reports. */
async function run(site: PageOrigin, name: VariantName, fileName: string, type: string, bytes: Buffer): Promise<{ outcome: Outcome; posts: number }> {
  context = await browser.newContext();
  const page: Page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  let posts = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST' && ['/v1/asset', '/v1/uploads'].includes(new URL(request.url()).pathname)) posts += 1;
  });
  await page.goto(`${site.origin}/?variant=${name}`);
  await page.evaluate(
    ({ fileName, type, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      (globalThis as unknown as { runSnippet(file: File): void }).runSnippet(new File([bytes], fileName, { type }));
    },
    { fileName, type, base64: bytes.toString('base64') },
  );
  await page.waitForFunction(() => (globalThis as unknown as { outcomes: unknown[] }).outcomes.length > 0, undefined, { timeout: 20_000 });
  const outcomes = await page.evaluate(() => (globalThis as unknown as { outcomes: Outcome[] }).outcomes);
  expect(errors).toEqual([]);
  expect(outcomes).toHaveLength(1);
  return { outcome: outcomes[0]!, posts };
}

it('finds one code block for proxyError and for each integration', () => {
  expect(() => blockWith('function proxyError(')).not.toThrow();
  for (const variant of Object.values(VARIANTS)) expect(() => blockWith(variant.marker)).not.toThrow();
});

describe.each(Object.keys(VARIANTS) as VariantName[])('%s, as docs/browser.md writes it', (name) => {
  it('reports the asset record of an upload', async () => {
    const { outcome } = await run(allowed, name, 'photo.png', 'image/png', png.bytes);
    expect(outcome).toEqual({ state: 'success', id: expect.stringMatching(/^[A-Za-z0-9_-]+$/) as unknown });
  });

  it("reports the proxy's 413 code and message, after one request", async () => {
    const { outcome, posts } = await run(allowed, name, 'huge.png', 'image/png', paddedFile(png, 4 * IMAGE_LIMIT));
    expect(outcome).toEqual({ state: 'error', status: 413, code: 'FILE_TOO_LARGE', message: 'Image files may be at most 262144 bytes.' });
    expect(posts).toBe(1);
  });

  it('reports a refused origin (no answer, status 0) as NETWORK_ERROR', async () => {
    const { outcome } = await run(refused, name, 'photo.png', 'image/png', png.bytes);
    expect(outcome).toMatchObject({ state: 'error', status: 0, code: 'NETWORK_ERROR' });
  });
});
