import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { servePages } from './page-origin';

const ROOT = join(__dirname, '..', '..', '..');
const PAGES_DIR = join(__dirname, 'widget-pages');

/**
 * The browser bundles of the widgets, straight from node_modules as their packages ship them: each
 * is a plain script that sets a global, so a page needs no bundler, as an integrator's page would
 * load it from a CDN. Only these files are served (no directory is exposed).
 */
const VENDOR_FILES: Readonly<Record<string, string>> = {
  '/vendor/uppy.min.js': 'node_modules/uppy/dist/uppy.min.js',
  '/vendor/dropzone-min.js': 'node_modules/dropzone/dist/dropzone-min.js',
  '/vendor/filepond.min.js': 'node_modules/filepond/dist/filepond.min.js',
  '/vendor/axios.min.js': 'node_modules/axios/dist/axios.min.js',
};

/** One page per widget, each set up with the endpoint (and a part name where needed) only. */
export const WIDGET_PAGES = ['uppy', 'dropzone', 'filepond', 'axios'] as const;
export type WidgetPage = (typeof WIDGET_PAGES)[number];

export interface WidgetServer {
  /** The pages' origin, e.g. http://127.0.0.1:41234: what the browser sends as Origin. */
  readonly origin: string;
  pageUrl(page: WidgetPage, uploadUrl: string): string;
  close(): Promise<void>;
}

/** A test-only static server: the widget pages and the widgets' bundles, on an origin of its own. */
export async function startWidgetServer(): Promise<WidgetServer> {
  const pages = new Set<string>([...WIDGET_PAGES.map((page) => `/${page}.html`), '/widget-harness.js']);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    const vendor = VENDOR_FILES[path];
    const file = vendor !== undefined ? join(ROOT, vendor) : pages.has(path) ? join(PAGES_DIR, path.slice(1)) : undefined;
    if (file === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    readFile(file).then(
      (bytes) => {
        const type = file.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8';
        res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' }).end(bytes);
      },
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('unreadable'),
    );
  });
  const { origin, close } = await servePages(server);
  return {
    origin,
    pageUrl: (page, uploadUrl) => `${origin}/${page}.html?endpoint=${encodeURIComponent(uploadUrl)}`,
    close,
  };
}
