import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The entry points a test can run: the production server, and `npm run dev`'s launcher. */
export type EntryPoint = 'src/server.ts' | 'src/dev/launch.ts';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

export interface EntryProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with what has been written once `pattern` matches it; rejects if the process exits first. */
  readonly waitFor: (pattern: RegExp) => Promise<RegExpExecArray>;
  /** The exit code and everything written, once the process has exited. */
  readonly exited: Promise<{ code: number | null; output: string }>;
}

/**
 * An entry point in its own process, as `npm start` or `npm run dev` runs it, with only PATH and `env`
 * in its environment. ENV_FILE defaults to an empty file, so a developer's own `.env` beside
 * package.json never reaches a test; a test of the env file points ENV_FILE at its own.
 */
export function spawnEntry(entry: EntryPoint, env: Record<string, string>): EntryProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ENV_FILE: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': by then the pipes have delivered everything the process wrote.
  const exited = once(child, 'close').then(([code]) => ({ code: code as number | null, output }));
  const waitFor = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(output);
        if (match === null) return;
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve(match);
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      void exited.then(({ code }) => reject(new Error(`${entry} exited (${code}) before writing ${pattern}: ${output}`)));
      check();
    });
  return { child, output: () => output, waitFor, exited };
}

/** The real entry point (src/server.ts) in its own process, as the container runs it. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const started = spawnEntry('src/server.ts', env);
  const match = await started.waitFor(/"url":"(http:\/\/[^"]+)"/);
  return { child: started.child, url: match[1]!, output: started.output };
}
