import http from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { listen } from '../listen';
import { clientBundle } from './client-bundle';

/**
 * The demo page (public/) on an origin of its own, so that the browser treats the proxy as another
 * site and CORS and the origin check are exercised as they are for a real integrator's app.
 */
export const DEMO_PUBLIC_DIR = join(__dirname, '..', '..', 'public');

/** Where the page imports the browser client (client/) from: the bundle made when the server starts. */
export const CLIENT_BUNDLE_PATH = '/vendor/heygen-upload-client.js';

export interface DemoServerOptions {
  /**
   * Where the page sends uploads, e.g. http://localhost:3000 (no trailing path). A function is read
   * on each request, for when the proxy starts after the page's origin is known (tests on port 0).
   */
  readonly proxyUrl: string | (() => string);
  readonly port?: number;
  readonly host?: string;
  /** The host name used in the returned `url` (the listening address otherwise). */
  readonly publicHost?: string;
}

export interface DemoServer {
  /** The page's origin, e.g. http://localhost:3001: what the browser sends as Origin. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const proxyUrl = typeof options.proxyUrl === 'function' ? options.proxyUrl : () => options.proxyUrl as string;
  // Built before listening, so the page never meets a half-ready server; a client that does not
  // compile stops `npm run dev` with esbuild's message.
  const bundle = await clientBundle();
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    const proxyOrigin = new URL(proxyUrl()).origin;
    // The page talks to the proxy only, and previews images from the picked file (blob:), so a
    // tight policy costs nothing and shows integrators what their own page needs: connect-src.
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'self'; connect-src 'self' ${proxyOrigin}; img-src 'self' blob:; ` +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  // The page reads the proxy's address from here rather than having it baked in.
  app.get('/config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ proxyUrl: proxyUrl() });
  });
  app.get(CLIENT_BUNDLE_PATH, (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.type('text/javascript').send(bundle);
  });
  app.use(express.static(DEMO_PUBLIC_DIR, { index: 'index.html', fallthrough: true }));

  const server = http.createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const bound = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const port = bound.port;
  const host = options.publicHost ?? bound.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
