import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fixture } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';
import { launchChromium } from './support/chromium';
import { type ClientPageServer, startClientPageServer } from './support/client-page';

/**
 * examples/react (useUpload and UploadField) bundled with React and rendered in Chromium against a
 * real proxy: a picked file is uploaded and its asset id shown; a refusal shows the proxy's code.
 */
const EXAMPLE_DIR = join(__dirname, '..', '..', 'examples', 'react');

async function exampleBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        "import { createElement } from 'react'; import { createRoot } from 'react-dom/client'; import { UploadField } from './upload-field';" +
        'window.mountUploadField = (baseUrl) => createRoot(document.body.appendChild(document.createElement("div"))).render(createElement(UploadField, { baseUrl }));',
      resolveDir: EXAMPLE_DIR,
      loader: 'tsx',
    },
    bundle: true,
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
  });
  return result.outputFiles[0]!.text;
}

let browser: Browser;
let pages: ClientPageServer;
let harness: V3Harness;
let bundle: string;
let dir: string;
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  pages = await startClientPageServer();
  harness = await startV3Harness({ ALLOWED_ORIGINS: pages.origin, MAX_IMAGE_BYTES: String(256 * 1024) });
  bundle = await exampleBundle();
  dir = await mkdtemp(join(tmpdir(), 'react-example-'));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await pages?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

/** The client page's origin (listed by the proxy) with the example mounted on it. */
async function mounted(): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pages.origin}/`);
  await page.addScriptTag({ content: bundle });
  await page.evaluate((url) => (globalThis as unknown as { mountUploadField(u: string): void }).mountUploadField(url), harness.url);
  await page.waitForSelector('input[type="file"]');
  return page;
}

it('uploads the picked file and shows the asset id', async () => {
  const path = join(dir, 'photo.png');
  await writeFile(path, fixture('sample.png').bytes);
  const page = await mounted();
  await page.setInputFiles('input[type="file"]', path);
  await page.waitForSelector('[role="status"][data-phase="done"]', { state: 'attached' });
  const assetId = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.assetId!;
  expect(await page.textContent('[role="status"]')).toBe(`Uploaded: ${assetId}`);
  expect(await page.getAttribute('progress', 'value')).toBe('1');
});

it("shows a refusal with the proxy's code and words", async () => {
  const path = join(dir, 'huge.png');
  await writeFile(path, sizedMedia('image/png', 1024 * 1024));
  const page = await mounted();
  await page.setInputFiles('input[type="file"]', path);
  await page.waitForSelector('[role="status"][data-phase="error"]', { state: 'attached' });
  expect(await page.getAttribute('[role="status"]', 'data-code')).toBe('FILE_TOO_LARGE');
  expect(await page.textContent('[role="status"]')).toBe('Image files may be at most 262144 bytes.');
});
