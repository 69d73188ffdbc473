import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening and resolves with the bound port and a host usable in a URL (IPv6 bracketed). */
export async function listen(server: Server, port: number, host: string | undefined): Promise<{ port: number; host: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound, address } = server.address() as AddressInfo;
  return { port: bound, host: address.includes(':') ? `[${address}]` : address };
}
