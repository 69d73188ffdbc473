import type { Browser, BrowserContext, Page, Request, Response } from 'playwright-core';
import { fixture, paddedFile, sha256 } from '../support/fixtures';
import { type Harness, startHarness } from '../support/proxy-harness';
import { launchChromium } from './support/chromium';
import { throttleUploads } from './support/demo-stack';
import type { WidgetOutcome, WidgetWindow } from './support/page-dom';
import { startWidgetServer, type WidgetPage, type WidgetServer } from './support/widget-server';

/**
 * Upload widgets, loaded from their packages' browser bundles on a page of an allowed
 * origin, each set up with the endpoint only (and the part name where its default is not "file"),
 * upload to the proxy in a real Chromium, get the asset record, and read the proxy's own errors.
 */
const KIB = 1024;
const IMAGE_LIMIT = 256 * KIB;
const png = fixture('sample.png');

/**
 * How many times each widget sends a refused upload. Uppy's XHRUpload retries every non-2xx answer
 * three times by default (300, 600, 1200 ms apart); the README says how to stop that for 4xx.
 */
const ATTEMPTS_ON_REFUSAL: Record<WidgetPage, number> = { uppy: 4, dropzone: 1, filepond: 1, axios: 1 };

/** The form parts each widget sends by default besides the file part, by name, in order. */
const EXPECTED_PARTS: Record<WidgetPage, Array<{ name: string; file: boolean }>> = {
  // XHRUpload sends every meta field of the file (allowedMetaFields: true) before the file.
  uppy: [
    { name: 'name', file: false },
    { name: 'type', file: false },
    { name: 'file', file: true },
  ],
  dropzone: [{ name: 'file', file: true }],
  // FilePond's metadata (JSON) goes first under the part name itself, as a text field.
  filepond: [
    { name: 'file', file: false },
    { name: 'file', file: true },
  ],
  axios: [{ name: 'file', file: true }],
};

let browser: Browser;
let server: WidgetServer;
let harness: Harness;
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  server = await startWidgetServer();
  harness = await startHarness({ ALLOWED_ORIGINS: server.origin, MAX_IMAGE_BYTES: String(IMAGE_LIMIT) });
});
afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await server?.close();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

interface OpenedWidget {
  readonly page: Page;
  /** Every POST to /v1/asset the page sent, and the proxy's answers to them. */
  readonly uploads: Request[];
  readonly answers: Array<Promise<{ status: number; body: unknown }>>;
}

async function openWidget(widget: WidgetPage): Promise<OpenedWidget> {
  context = await browser.newContext();
  const page = await context.newPage();
  const uploads: Request[] = [];
  const answers: Array<Promise<{ status: number; body: unknown }>> = [];
  const isUpload = (request: Request): boolean => request.method() === 'POST' && new URL(request.url()).pathname === '/v1/asset';
  page.on('request', (request) => {
    if (isUpload(request)) uploads.push(request);
  });
  page.on('response', (response: Response) => {
    if (isUpload(response.request())) answers.push(response.json().then((body: unknown) => ({ status: response.status(), body })));
  });
  await page.goto(server.pageUrl(widget, harness.uploadUrl));
  await page.waitForFunction(() => (globalThis as unknown as WidgetWindow).widgetReady === true);
  return { page, uploads, answers };
}

/** Hands the widget a file through its own API, and waits for what its callbacks report. */
async function uploadThroughWidget(page: Page, name: string, type: string, bytes: Buffer): Promise<WidgetOutcome> {
  await page.evaluate(
    ({ name, type, base64 }) => (globalThis as unknown as WidgetWindow).addTestFile(name, type, base64),
    { name, type, base64: bytes.toString('base64') },
  );
  await page.waitForFunction(() => (globalThis as unknown as WidgetWindow).outcomes.length > 0, undefined, { timeout: 15_000 });
  const outcomes = await page.evaluate(() => (globalThis as unknown as WidgetWindow).outcomes);
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
}

function completeUploadsSince(before: number) {
  return harness.standIn.received.slice(before).filter((upload) => upload.complete);
}

describe.each(['uppy', 'dropzone', 'filepond', 'axios'] as const)('%s', (widget) => {
  it('uploads a PNG and reports the asset record id', async () => {
    const before = harness.standIn.received.length;
    const { page, uploads, answers } = await openWidget(widget);
    const outcome = await uploadThroughWidget(page, 'photo.png', 'image/png', png.bytes);

    expect(uploads).toHaveLength(1);
    const answer = await answers[0]!;
    expect(answer.status).toBe(201);
    const record = answer.body as { id: string; file_type: string };
    expect(record).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown, file_type: 'image' });
    expect(outcome).toEqual({ state: 'success', id: record.id });

    expect(completeUploadsSince(before)).toEqual([
      expect.objectContaining({ contentType: 'image/png', sha256: sha256(png.bytes), bytes: png.bytes.length }),
    ]);
    // The widget's own extra fields went along and were accepted within the form limits.
    expect(await page.evaluate(() => (globalThis as unknown as WidgetWindow).formsSent)).toEqual([EXPECTED_PARTS[widget]]);
    const progress = await page.evaluate(() => (globalThis as unknown as WidgetWindow).progress);
    expect(progress.length).toBeGreaterThan(0);
  });

  it("shows the proxy's 413 FILE_TOO_LARGE for an oversize file, not a network error", async () => {
    const before = harness.standIn.received.length;
    const { page, uploads } = await openWidget(widget);
    const outcome = await uploadThroughWidget(page, 'huge.png', 'image/png', paddedFile(png, 4 * IMAGE_LIMIT));

    expect(outcome).toMatchObject({ state: 'error', status: 413, code: 'FILE_TOO_LARGE', message: 'Image files may be at most 262144 bytes.' });
    expect(uploads).toHaveLength(ATTEMPTS_ON_REFUSAL[widget]);
    expect(completeUploadsSince(before)).toEqual([]);
  });

  it("shows the proxy's 415 UNSUPPORTED_MEDIA_TYPE for a file of the wrong type", async () => {
    const before = harness.standIn.received.length;
    const { page, uploads } = await openWidget(widget);
    const outcome = await uploadThroughWidget(page, 'notes.txt', 'text/plain', Buffer.from('just some text, not media\n'));

    expect(outcome).toMatchObject({ state: 'error', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(uploads).toHaveLength(ATTEMPTS_ON_REFUSAL[widget]);
    expect(completeUploadsSince(before)).toEqual([]);
  });
});

it('axios reports upload progress while the file is on its way', async () => {
  const before = harness.standIn.received.length;
  const bytes = paddedFile(png, 200 * KIB);
  const { page } = await openWidget('axios');
  // About 1.5 s on the wire, so Chromium reports progress part-way, not only at the end.
  await throttleUploads(page, 128 * KIB);
  const outcome = await uploadThroughWidget(page, 'photo.png', 'image/png', bytes);

  expect(outcome).toMatchObject({ state: 'success', id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
  const progress = await page.evaluate(() => (globalThis as unknown as WidgetWindow).progress);
  expect(progress.some(([loaded, total]) => total !== null && loaded > 0 && loaded < total)).toBe(true);
  const [lastLoaded, lastTotal] = progress.at(-1)!;
  expect(lastLoaded).toBe(lastTotal);
  expect(completeUploadsSince(before)).toEqual([expect.objectContaining({ sha256: sha256(bytes) })]);
});
