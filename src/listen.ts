import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The port asked for is taken. Node's own error is a bare EADDRINUSE with a stack, which does not say
 * which setting chose the port; this one carries the port so an entry point can name its variable
 * (PORT, DEMO_PORT) in one line and say how to pick another.
 */
export class PortInUseError extends Error {
  readonly port: number;

  constructor(port: number, host: string | undefined, options?: { cause?: unknown }) {
    super(`port ${port}${host === undefined ? '' : ` on ${host}`} is already in use by another program`, options);
    this.name = 'PortInUseError';
    this.port = port;
  }

  /** One line for the person starting the process: which variable to change, and an example. */
  hint(variable: string, command: string): string {
    const other = this.port + 100 <= 65535 ? this.port + 100 : this.port - 100;
    return `${variable}=${this.port} cannot be used: ${this.message}. Choose another port with ${variable}, e.g. \`${variable}=${other} ${command}\` (or set it in .env).`;
  }
}

/** Starts listening and resolves with the bound port and a host usable in a URL (IPv6 bracketed). */
export async function listen(server: Server, port: number, host: string | undefined): Promise<{ port: number; host: string }> {
  await new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void => reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, host, { cause: error }) : error);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port: bound, address } = server.address() as AddressInfo;
  return { port: bound, host: address.includes(':') ? `[${address}]` : address };
}
