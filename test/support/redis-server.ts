import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createLogger } from '../../src/ops/logger';
import { createRedisConnection, type RedisConnection } from '../../src/state/redis-connection';

export interface RedisServer {
  readonly url: string;
  /** A new connected client; closed by stop(). */
  client(): Promise<RedisConnection>;
  /** Kills the server (as an outage would) and closes the clients made by client(). */
  stop(): Promise<void>;
}

/** Fails with a one-line hint when redis-server is not installed: these tests never skip. */
export function assertRedisServerInstalled(): void {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server not found: install it (apt-get install redis-server) to run the shared-state tests');
  }
}

/** A port nobody is listening on right now: bind to 0, read it, let it go. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A throwaway redis-server on a loopback port, without persistence; resolves once it accepts connections. */
export async function startRedisServer(): Promise<RedisServer> {
  assertRedisServerInstalled();
  const port = await freeLoopbackPort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await ready(child);
  const url = `redis://127.0.0.1:${port}`;
  const clients: RedisConnection[] = [];
  return {
    url,
    async client() {
      const client = createRedisConnection(url, createLogger('silent'));
      await client.connect();
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients.splice(0)) if (client.isOpen) client.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves on redis-server's own "Ready to accept connections" line; fails if it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${output.slice(-500)}`)));
  });
}
