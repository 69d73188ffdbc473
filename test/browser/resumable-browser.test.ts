import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { type DemoServer, startDemoServer } from '../../src/dev/demo-server';
import { sha256 } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';
import { waitForFileSize } from '../support/tus';
import { waitForDirectory } from '../support/wait';
import { launchChromium } from './support/chromium';
import { finalStatus, openDemoPage, throttleUploads } from './support/demo-stack';

const MIB = 1024 * 1024;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** A TCP relay in front of the proxy whose open connections the test can cut, as a flaky network would. */
interface Relay {
  readonly url: string;
  cut(): void;
  close(): Promise<void>;
}

async function startRelay(target: URL): Promise<Relay> {
  const pairs = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      pairs.add(socket);
      socket.once('close', () => pairs.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () => {
      for (const socket of pairs) socket.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of pairs) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Waits for an upload to hold `bytes` on the proxy's disk, then cuts every connection through the relay. */
async function cutMidUpload(dir: string, relay: Relay, bytes: number): Promise<string> {
  const entries = await waitForDirectory(dir, (names) => names.some((name) => UPLOAD_ID.test(name)), 20_000);
  const id = entries.find((name) => UPLOAD_ID.test(name))!;
  await waitForFileSize(join(dir, id), bytes, 20_000);
  relay.cut();
  return id;
}

/** @uppy/core and @uppy/tus as one browser script (they ship as ES modules for bundlers). */
async function uppyBundle(): Promise<string> {
  const result = await build({
    stdin: { contents: "import Uppy from '@uppy/core'; import Tus from '@uppy/tus'; window.Uppy = Uppy; window.UppyTus = Tus;", resolveDir: __dirname },
    bundle: true,
    format: 'iife',
    write: false,
    target: 'chrome120',
  });
  return result.outputFiles[0]!.text;
}

/** tus-js-client's browser build, as a page without a bundler loads it (it sets `window.tus`). */
function tusJsClientBundle(): Promise<string> {
  return readFile(join(dirname(require.resolve('tus-js-client')), '..', '..', 'dist', 'tus.min.js'), 'utf8');
}

/** Runs one tus-js-client upload in the page, set up as docs/browser.md shows, and counts its retries. */
const RUN_TUS_JS_CLIENT = `
window.runTus = (endpoint, name, type, chunkSize) => new Promise(async (resolve) => {
  const bytes = await (await fetch('/test-file')).arrayBuffer();
  let retries = 0;
  const upload = new window.tus.Upload(new File([bytes], name, { type }), {
    endpoint,
    metadata: { filename: name, filetype: type },
    chunkSize,
    retryDelays: [0, 500, 1000, 2000, 4000],
    onShouldRetry: () => { retries += 1; return true; },
    onSuccess: ({ lastResponse }) => resolve({ uploadURL: upload.url, record: JSON.parse(lastResponse.getBody()), retries }),
    onError: (error) => resolve({ error: String(error) }),
  });
  upload.start();
});`;

/** Runs one Uppy upload in the page and reports what an integrator's page would see. */
const RUN_UPPY = `
window.runUppy = async (endpoint, name, type, chunkSize) => {
  const bytes = await (await fetch('/test-file')).arrayBuffer();
  const uppy = new window.Uppy({ autoProceed: false });
  uppy.use(window.UppyTus, { endpoint, chunkSize, retryDelays: [0, 500, 1000, 2000, 4000] });
  let retries = 0;
  uppy.on('upload-retry', () => { retries += 1; });
  uppy.on('upload-error', (file, error) => { window.lastError = String(error); });
  uppy.addFile({ name, type, data: new Blob([bytes], { type }) });
  const result = await uppy.upload();
  const done = result.successful[0];
  if (!done) return { error: String(result.failed[0] && result.failed[0].error) };
  const response = await fetch(done.uploadURL);
  return { uploadURL: done.uploadURL, status: response.status, record: await response.json(), retries };
};`;

describe('resumable uploads from Chromium', () => {
  let browser: Browser;
  let harness: V3Harness;
  let relay: Relay;
  let demo: DemoServer;
  let dir: string;
  let filesDir: string;
  let origin: string;

  beforeAll(async () => {
    browser = await launchChromium();
    dir = await mkdtemp(join(tmpdir(), 'resumable-browser-'));
    filesDir = await mkdtemp(join(tmpdir(), 'resumable-browser-files-'));
    let proxyUrl = '';
    demo = await startDemoServer({ proxyUrl: () => proxyUrl, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${demo.port}`;
    harness = await startV3Harness({ ALLOWED_ORIGINS: origin, RESUMABLE_DIR: dir });
    relay = await startRelay(new URL(harness.url));
    proxyUrl = relay.url;
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await relay?.close();
    await harness?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(filesDir, { recursive: true, force: true });
  });

  it('the demo page uploads a large file resumably (the client over tus), survives a cut connection mid-upload and shows the asset', async () => {
    const bytes = sizedMedia('video/mp4', 4 * MIB);
    const path = join(filesDir, 'talk.mp4');
    await writeFile(path, bytes);
    const { page, context } = await openDemoPage(browser, `${origin}/?chunk=${MIB}`);
    try {
      await page.setInputFiles('#file', path);
      // 4 MiB is under the page's 8 MiB threshold: the user ticks the box.
      expect(await page.isChecked('#resumable')).toBe(false);
      await page.check('#resumable');
      await throttleUploads(page, MIB);
      const before = harness.standIn.assetsCreated();
      await page.click('#upload');
      const id = await cutMidUpload(dir, relay, 1.5 * MIB);

      const status = await finalStatus(page, 40_000);
      expect(status).toMatchObject({ state: 'success' });
      expect(Number(await page.evaluate(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.resumes))).toBeGreaterThanOrEqual(1);
      expect(harness.standIn.assetsCreated()).toBe(before + 1);
      const received = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
      expect(received.sha256).toBe(sha256(bytes));
      expect(received.idempotencyKey).toBe(`hup-tus-${id}`);
      expect(await page.textContent('#result-id')).toBe(received.assetId);
      // The client asked where to resume (HEAD), and the upload was not started over.
      expect(harness.logs.text).toContain(`"method":"HEAD","path":"/v1/uploads/${id}"`);
    } finally {
      await context.close();
    }
  });

  it('picks a resumable upload by itself for a file over 8 MiB', async () => {
    const bytes = sizedMedia('audio/mpeg', 9 * MIB);
    const path = join(filesDir, 'voice.mp3');
    await writeFile(path, bytes);
    const { page, context } = await openDemoPage(browser, `${origin}/`);
    try {
      await page.setInputFiles('#file', path);
      expect(await page.isChecked('#resumable')).toBe(true);
      await page.click('#upload');
      expect(await finalStatus(page, 40_000)).toMatchObject({ state: 'success' });
      expect(harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
    } finally {
      await context.close();
    }
  });

  /**
   * Runs `runner` (a page function `script` defines) on a page really served from the allowed origin
   * (Chromium's local-network rules treat a page made up by the test as public, and public pages may
   * not reach loopback), uploading `bytes` through the relay, which is cut once mid-upload.
   */
  async function uploadThroughCut<R>(bytes: Buffer, script: string, runner: string, name: string, type: string): Promise<{ result: R; id: string; before: number }> {
    const context = await browser.newContext({ bypassCSP: true });
    try {
      const page: Page = await context.newPage();
      await page.route(`${origin}/test-file`, (route) => route.fulfill({ contentType: 'application/octet-stream', body: bytes }));
      await page.goto(`${origin}/`);
      await page.addScriptTag({ content: script });
      await throttleUploads(page, MIB);
      const before = harness.standIn.assetsCreated();
      const running = page.evaluate(
        ([fn, endpoint, file, mediaType, chunk]) =>
          (globalThis as unknown as Record<string, (e: string, n: string, t: string, c: number) => Promise<unknown>>)[fn]!(endpoint, file, mediaType, chunk),
        [runner, `${relay.url}/v1/uploads`, name, type, MIB] as const,
      );
      const id = await cutMidUpload(dir, relay, 1.2 * MIB);
      return { result: (await running) as R, id, before };
    } finally {
      await context.close();
    }
  }

  it('tus-js-client uploads through a cut connection, resumes from the server offset, and gets the record', async () => {
    const bytes = sizedMedia('audio/mpeg', 3 * MIB);
    const script = `${await tusJsClientBundle()}\n${RUN_TUS_JS_CLIENT}`;
    const { result, id, before } = await uploadThroughCut<{ uploadURL: string; record: { id: string; size_bytes: number }; retries: number; error?: string }>(
      bytes, script, 'runTus', 'voice.mp3', 'audio/mpeg',
    );
    expect(result.error).toBeUndefined();
    expect(result.uploadURL).toBe(`${relay.url}/v1/uploads/${id}`);
    expect(result.retries).toBeGreaterThanOrEqual(1);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    const received = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
    expect(received.sha256).toBe(sha256(bytes));
    expect(result.record).toMatchObject({ id: received.assetId, size_bytes: bytes.length });
    expect(harness.logs.text).toContain(`"method":"HEAD","path":"/v1/uploads/${id}"`);
  });

  it("Uppy's Tus plugin uploads through a cut connection, and GET on its upload URL answers the record", async () => {
    const bytes = sizedMedia('video/webm', 3 * MIB);
    const script = `${await uppyBundle()}\n${RUN_UPPY}`;
    const { result, id, before } = await uploadThroughCut<{ uploadURL: string; status: number; record: { id: string; size_bytes: number }; retries: number; error?: string }>(
      bytes, script, 'runUppy', 'clip.webm', 'video/webm',
    );
    expect(result.error).toBeUndefined();
    expect(result.uploadURL).toBe(`${relay.url}/v1/uploads/${id}`);
    expect(result.status).toBe(200);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    const received = harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
    expect(received.sha256).toBe(sha256(bytes));
    expect(received.partContentType).toBe('video/webm');
    expect(result.record).toMatchObject({ id: received.assetId, size_bytes: bytes.length });
    expect(harness.logs.text).toContain(`"method":"HEAD","path":"/v1/uploads/${id}"`);
  });
});
