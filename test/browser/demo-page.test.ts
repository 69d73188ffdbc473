import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { fixture, paddedFile, sha256 } from '../support/fixtures';
import { launchChromium } from './support/chromium';
import { type DemoStack, finalStatus, type OpenedPage, openDemoPage, startDemoStack, throttleUploads } from './support/demo-stack';
import type { PageWindow } from './support/page-dom';

const MIB = 1024 * 1024;
const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');
const png = fixture('sample.png');

let browser: Browser;
let filesDir: string;
let opened: OpenedPage | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  filesDir = await mkdtemp(join(tmpdir(), 'browser-files-'));
});
afterAll(async () => {
  await browser?.close();
  if (filesDir) await rm(filesDir, { recursive: true, force: true });
});
afterEach(async () => {
  await opened?.context.close();
  opened = undefined;
});

/** Files go to disk and are picked by path: Playwright refuses in-memory buffers over 50 MB. */
function writeFile(name: string, bytes: Buffer): string {
  const path = join(filesDir, name);
  writeFileSync(path, bytes);
  return path;
}

async function open(url: string): Promise<OpenedPage> {
  opened = await openDemoPage(browser, url);
  return opened;
}

// Every limit at 1 MiB: a 40 MiB file is refused from its Content-Length, before any body is read.
describe('demo page against the dev stack (limits 1 MiB)', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({ MAX_IMAGE_BYTES: String(MIB), MAX_VIDEO_BYTES: String(MIB), MAX_AUDIO_BYTES: String(MIB) });
  });
  afterAll(() => stack.close());

  it('uploads from an allowed origin, reports progress, shows the asset and a preview', async () => {
    const bytes = paddedFile(png, 900 * 1024);
    const path = writeFile('photo.png', bytes);
    const { page } = await open(`${stack.allowedOrigin}/`);
    expect(await page.textContent('#limits')).toContain('images up to 1 MiB');

    // Slow enough (about 2 s) that Chromium reports upload progress several times.
    await throttleUploads(page, 512 * 1024);
    // Records what the progress bar shows, as the user would see it, each time it changes.
    await page.evaluate(() => {
      const page = globalThis as unknown as PageWindow;
      const seen: number[] = [];
      page.progressSeen = seen;
      const progress = page.document.getElementById('progress')!;
      new page.MutationObserver(() => seen.push(progress.value)).observe(progress, { attributes: true, attributeFilter: ['value'] });
    });
    await page.setInputFiles('#file', path);
    await page.click('#upload');

    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'success', code: '' });
    const seen = await page.evaluate(() => (globalThis as unknown as PageWindow).progressSeen ?? []);
    expect(seen.some((value) => value > 0 && value < 100)).toBe(true);
    expect(seen.at(-1)).toBe(100);

    const received = stack.harness.standIn.received.at(-1);
    expect(received).toMatchObject({ complete: true, contentType: 'image/png', sha256: sha256(bytes) });
    const id = await page.textContent('#result-id');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.textContent('#result-url')).toContain(id!);
    await page.waitForSelector('#preview:not([hidden])');
    await page.waitForFunction(() => (globalThis as unknown as PageWindow).document.getElementById('preview')!.complete);
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).document.getElementById('preview')!.naturalWidth)).toBeGreaterThan(0);

    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'demo-page-uploaded.png'), fullPage: true });
  });

  it('refuses a file over the limit in the browser, before sending anything', async () => {
    const path = writeFile('huge.png', paddedFile(png, 40 * MIB));
    const { page, uploadRequests } = await open(`${stack.allowedOrigin}/`);
    await page.setInputFiles('#file', path);

    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'error', code: 'FILE_TOO_LARGE' });
    expect(status.text).toContain('too large');
    expect(status.text).toContain('1 MiB');
    expect(await page.isDisabled('#upload')).toBe(true);
    expect(uploadRequests).toEqual([]);
  });

  it("shows the proxy's own 413 for a 40 MiB file, as a readable answer and not a network error", async () => {
    const path = writeFile('huge.png', paddedFile(png, 40 * MIB));
    const before = stack.harness.standIn.received.length;
    const { page, uploadRequests } = await open(`${stack.allowedOrigin}/?precheck=off`);
    await page.setInputFiles('#file', path);
    await page.click('#upload');

    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'error', code: 'FILE_TOO_LARGE', httpStatus: '413' });
    expect(status.text).toContain('This file is too large.');
    expect(status.text).toContain('Files may be at most 1 MiB.');
    expect(uploadRequests).toHaveLength(1);
    expect(stack.harness.standIn.received.slice(before)).toEqual([]);
  });

  it("shows the proxy's 413 when a slow upload is cut off by the proxy's drain timeout", async () => {
    // At 2 MiB/s the 40 MiB body would take 20 s; the proxy drains for 5 s, then closes.
    const path = writeFile('huge.png', paddedFile(png, 40 * MIB));
    const { page } = await open(`${stack.allowedOrigin}/?precheck=off`);
    await throttleUploads(page, 2 * MIB);
    await page.setInputFiles('#file', path);
    await page.click('#upload');

    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'error', code: 'FILE_TOO_LARGE', httpStatus: '413' });
  });

  it('refuses a type it does not take, in the browser and then from the proxy (415)', async () => {
    const path = writeFile('notes.txt', Buffer.from('just some text, not media\n'));
    const checked = await open(`${stack.allowedOrigin}/`);
    await checked.page.setInputFiles('#file', path);
    expect(await finalStatus(checked.page)).toMatchObject({ state: 'error', code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: '' });
    expect(checked.uploadRequests).toEqual([]);
    await checked.context.close();

    const before = stack.harness.standIn.received.length;
    const { page } = await open(`${stack.allowedOrigin}/?precheck=off`);
    await page.setInputFiles('#file', path);
    await page.click('#upload');
    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'error', code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: '415' });
    expect(status.text).toContain('This type of file is not accepted.');
    expect(stack.harness.standIn.received.slice(before)).toEqual([]);
  });

  it('explains a 502 when the media service fails', async () => {
    const path = writeFile('photo.png', png.bytes);
    const { page } = await open(`${stack.allowedOrigin}/`);
    stack.harness.standIn.setFault('status-500', 1);
    await page.setInputFiles('#file', path);
    await page.click('#upload');
    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'error', code: 'UPSTREAM_ERROR', httpStatus: '502' });
    expect(status.text).toContain('The media service could not take the upload.');
  });

  function uploadLogEntries(): Array<Record<string, unknown>> {
    return stack.harness.logs.entries().filter((entry) => entry.path === '/v1/asset');
  }

  it('an XHR upload from an origin not in ALLOWED_ORIGINS stops at the refused preflight', async () => {
    const path = writeFile('photo.png', png.bytes);
    const before = stack.harness.standIn.received.length;
    const logged = uploadLogEntries().length;
    const { page, uploadRequests } = await open(`${stack.foreignOrigin}/`);
    // The limits cannot be read from here either; the page says so and lets the server decide.
    expect(await page.getAttribute('#limits', 'data-state')).toBe('unavailable');
    await page.setInputFiles('#file', path);
    await page.click('#upload');

    // Without CORS headers on the 403 the browser hides it from the page: a network error there.
    expect(await finalStatus(page)).toMatchObject({ state: 'error', code: 'NETWORK_ERROR' });
    expect(uploadRequests).toHaveLength(1);
    // An XHR with upload listeners is always preflighted (Fetch spec), so the body is never sent.
    const entries = uploadLogEntries().slice(logged);
    expect(entries.map(({ method, status, outcome }) => ({ method, status, outcome }))).toEqual([
      { method: 'OPTIONS', status: 403, outcome: 'ORIGIN_NOT_ALLOWED' },
    ]);
    expect(stack.harness.standIn.received.slice(before)).toEqual([]);
  });

  it('a fetch() upload from an origin not in ALLOWED_ORIGINS is sent, refused with 403, and not forwarded', async () => {
    const before = stack.harness.standIn.received.length;
    const logged = uploadLogEntries().length;
    const { page } = await open(`${stack.foreignOrigin}/`);
    // A FormData POST is a "simple request": no preflight, the browser sends the body outright.
    const outcome = await page.evaluate(async ({ url, bytes }) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'photo.png');
      try {
        const response = await fetch(url, { method: 'POST', body: form });
        return `read HTTP ${response.status}`;
      } catch (error) {
        return `rejected: ${(error as Error).name}`;
      }
    }, { url: stack.harness.uploadUrl, bytes: [...png.bytes] });

    expect(outcome).toBe('rejected: TypeError');
    const entries = uploadLogEntries().slice(logged);
    expect(entries.map(({ method, status, outcome: code }) => ({ method, status, outcome: code }))).toEqual([
      { method: 'POST', status: 403, outcome: 'ORIGIN_NOT_ALLOWED' },
    ]);
    expect(stack.harness.standIn.received.slice(before)).toEqual([]);
  });
});

// Images at 1 MiB but video at 64 MiB: a 40 MiB PNG passes the Content-Length check and is refused
// while its body is being read, once the image limit is crossed, in both upstream modes.
describe.each(['buffered', 'streaming'] as const)('413 while reading the body (%s)', (mode) => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({ UPSTREAM_MODE: mode, MAX_IMAGE_BYTES: String(MIB), MAX_VIDEO_BYTES: String(64 * MIB) });
  });
  afterAll(() => stack.close());

  it('reaches the page as a readable 413', async () => {
    const path = writeFile('huge.png', paddedFile(png, 40 * MIB));
    const { page } = await open(`${stack.allowedOrigin}/?precheck=off`);
    await page.setInputFiles('#file', path);
    await page.click('#upload');

    const status = await finalStatus(page);
    expect(status).toMatchObject({ state: 'error', code: 'FILE_TOO_LARGE', httpStatus: '413' });
    expect(status.text).toContain('Image files may be at most 1 MiB.');
    expect(stack.harness.standIn.received.filter((upload) => upload.complete)).toEqual([]);
  });
});
