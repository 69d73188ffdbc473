import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { connectRedis, type RedisClient } from '../../src/ops/redis-client';

export const REDIS_SERVER_BINARY = '/usr/bin/redis-server';

export interface RedisServer {
  readonly url: string;
  /** A new connected client; closed by stop(). */
  client(): Promise<RedisClient>;
  stop(): Promise<void>;
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

/**
 * A throwaway redis-server on loopback, without persistence. Tests need a real one (the Lua scripts and
 * SET NX PX are the point), so a missing binary fails the test with the fix rather than skipping it.
 */
export async function startRedisServer(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER_BINARY)) throw new Error('install redis-server (apt-get install redis-server)');
  const port = await freeLoopbackPort();
  const child = spawn(
    REDIS_SERVER_BINARY,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await ready(child);
  const url = `redis://127.0.0.1:${port}`;
  const clients: RedisClient[] = [];
  return {
    url,
    async client() {
      const client = await connectRedis(url, () => undefined);
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((client) => (client.isOpen ? client.close() : Promise.resolve())));
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
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
    child.once('error', (error) => reject(new Error(`redis-server did not start (${error.message}); install redis-server (apt-get install redis-server)`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${output.slice(-500)}`)));
  });
}
