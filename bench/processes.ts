import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** Every child the harness started, so that exit, ctrl-c and crashes never leave a server behind. */
const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Where its stdout and stderr go (and so its --trace-gc lines). */
  readonly logFile: string;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly port: number;
  /** Where the child's stdout and stderr go: a log file, so logging costs what it costs in production. */
  readonly logFile: string;
}

/** Asks the kernel for a free port. The tiny race until the child binds it is acceptable on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a server and resolves once its port accepts connections. Polls the port (bounded: 20 s)
 * because the project server says nothing machine-readable when ready; fails at once if the child
 * exits first, quoting its log.
 */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(options.command, options.args, {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  children.add(child);
  let exited: string | undefined;
  // A binary that cannot be started (a wrong --node path) reports here instead of crashing the runner.
  child.once('error', (error) => {
    children.delete(child);
    exited = `could not start: ${error.message}`;
  });
  child.once('exit', (code, signal) => {
    children.delete(child);
    exited = `exited with ${signal ?? code ?? '?'}`;
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    if (await canConnect(options.port)) {
      if (child.pid === undefined) break;
      return { name: options.name, port: options.port, pid: child.pid, child, logFile: options.logFile };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  const tail = fs.readFileSync(options.logFile, 'utf8').slice(-2000);
  throw new Error(`${options.name} did not become ready (${exited ?? 'timed out'}); log tail:\n${tail}`);
}

/** Stops a server and waits for it to be gone, escalating to SIGKILL after 5 s. */
export async function stopServer(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** Registers something to undo at exit (temp dirs); runs synchronously, as 'exit' handlers must. */
export function onExit(cleanup: () => void): void {
  cleanups.push(cleanup);
}

function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup();
    } catch {
      // Best effort at exit: one failed cleanup must not stop the others.
    }
  }
}

/** Installs the exit/ctrl-c/crash handlers once. */
export function installExitHandlers(): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}
