import type http from 'node:http';
import { listen } from '../../../src/listen';

/** A test's page server on loopback: the origin a proxy lists for it, and a close that ends keep-alive sockets too. */
export interface PageOrigin {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly port: number;
  readonly close: () => Promise<void>;
}

export async function servePages(server: http.Server): Promise<PageOrigin> {
  const { port } = await listen(server, 0, '127.0.0.1');
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
