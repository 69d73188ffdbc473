import http from 'node:http';
import { clientBundle } from '../../../src/dev/client-bundle';
import { servePages } from './page-origin';

/**
 * The page imports the client as an integrator's bundle would (an ES module) and puts it on
 * `window.client`; `runUpload` then fetches a file the test put on the server and uploads it, and
 * answers what the page would see: the record, or the error's plain shape, every progress event and
 * every retry the client announced (onRetry: its code and the attempt's number).
 */
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>client</title></head><body>
<script type="module">
import * as client from '/client.js';
window.client = client;
window.runUpload = async (spec) => {
  const bytes = await (await fetch('/files/' + spec.file)).arrayBuffer();
  const file = new File([bytes], spec.name, { type: spec.type, lastModified: spec.lastModified || 1 });
  const progress = [];
  const retries = [];
  const controller = new AbortController();
  const options = {
    ...spec.options,
    signal: controller.signal,
    onRetry: (r) => retries.push([r.error.code, r.attempt]),
    onProgress: (p) => {
      progress.push([p.loaded, p.total, p.method]);
      if (spec.cancelAfterBytes !== undefined && p.loaded >= spec.cancelAfterBytes && p.loaded < p.total) controller.abort();
    },
  };
  try {
    const record = await client.upload(file, options);
    return { record, progress, retries };
  } catch (error) {
    return {
      error: error instanceof client.UploadError ? error.toJSON() : { notUploadError: String(error) },
      retryAfterSeconds: error.retryAfterSeconds,
      progress,
      retries,
    };
  }
};
document.body.dataset.ready = 'true';
</script></body></html>`;

export interface ClientPageServer {
  /** The page's origin on 127.0.0.1 (the one to list in ALLOWED_ORIGINS). */
  readonly origin: string;
  /** The same page under localhost: an origin the proxy does not list. */
  readonly foreignOrigin: string;
  /** Serves `bytes` to the page at /files/<name>. */
  putFile(name: string, bytes: Buffer): void;
  close(): Promise<void>;
}

export async function startClientPageServer(): Promise<ClientPageServer> {
  const bundle = await clientBundle();
  const files = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(PAGE);
    } else if (path === '/client.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' }).end(bundle);
    } else if (path.startsWith('/files/') && files.has(path.slice('/files/'.length))) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' }).end(files.get(path.slice('/files/'.length)));
    } else {
      res.writeHead(404).end();
    }
  });
  const { origin, port, close } = await servePages(server);
  return {
    origin,
    foreignOrigin: `http://localhost:${port}`,
    putFile: (name, bytes) => files.set(name, bytes),
    close,
  };
}
