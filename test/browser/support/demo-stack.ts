import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type DemoServer, startDemoServer } from '../../../src/dev/demo-server';
import { type Harness, startHarness } from '../../support/proxy-harness';
import type { PageWindow } from './page-dom';

/**
 * The dev stack in-process: the stand-in upstream, the proxy, and the demo page on an origin of its
 * own. The page is allowed as http://127.0.0.1:<port>; the same page reached as
 * http://localhost:<port> is a different origin, one the proxy does not list.
 */
export interface DemoStack {
  readonly harness: Harness;
  readonly demo: DemoServer;
  /** The origin listed in ALLOWED_ORIGINS. */
  readonly allowedOrigin: string;
  /** The same page under an origin the proxy does not list. */
  readonly foreignOrigin: string;
  close(): Promise<void>;
}

export async function startDemoStack(env: Record<string, string> = {}): Promise<DemoStack> {
  let proxyUrl = '';
  // The proxy must list the page's origin, so the page's port is needed first; the page is told the
  // proxy's address once it is known.
  const demo = await startDemoServer({ proxyUrl: () => proxyUrl, host: '127.0.0.1' });
  const allowedOrigin = `http://127.0.0.1:${demo.port}`;
  let harness: Harness;
  try {
    harness = await startHarness({ ALLOWED_ORIGINS: allowedOrigin, ...env });
  } catch (error) {
    await demo.close();
    throw error;
  }
  proxyUrl = harness.url;
  return {
    harness,
    demo,
    allowedOrigin,
    foreignOrigin: `http://localhost:${demo.port}`,
    async close() {
      await demo.close();
      await harness.close();
    },
  };
}

export interface OpenedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every POST to /v1/asset the page started, to tell "refused in the browser" from "sent". */
  readonly uploadRequests: string[];
}

/** A fresh context (no shared cache or cookies) with the demo page loaded and its script ready. */
export async function openDemoPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const uploadRequests: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/v1/asset') uploadRequests.push(request.url());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { context, page, uploadRequests };
}

/** Throttles the page's uploads inside Chromium, so an upload lasts long enough to report progress. */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

export interface StatusSnapshot {
  readonly state: string;
  readonly code: string;
  readonly httpStatus: string;
  readonly text: string;
}

/** Waits for the live region to settle on success or error, and reads what it says. */
export async function finalStatus(page: Page, timeoutMs = 20_000): Promise<StatusSnapshot> {
  await page.waitForSelector('#status[data-state="success"], #status[data-state="error"]', { timeout: timeoutMs });
  return page.evaluate(() => {
    const element = (globalThis as unknown as PageWindow).document.getElementById('status')!;
    const data = element.dataset;
    return { state: data.state ?? '', code: data.code ?? '', httpStatus: data.httpStatus ?? '', text: element.textContent ?? '' };
  });
}
