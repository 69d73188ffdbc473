import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The repository stands alone: a user clones it and nothing else. No tracked file may point at a
 * path outside it (a sibling folder of the clone, or a developer machine's absolute paths), so that
 * every test, script, example and document works from a fresh clone.
 */
const ROOT = resolve(__dirname, '..', '..');

/** Files whose text is not ours to word (the lockfile) or not text. */
const SKIPPED = /(^|\/)package-lock\.json$|\.(png|jpe?g|mp4|webm|mp3|ico|gz)$/;

/** A relative path that climbs: `../x`, `../../x/y` (in imports, links, shell, docs alike). */
const CLIMBING_PATH = /(?<![\w$}./-])((?:\.\.\/)+)([\w@.-]+(?:\/[\w@.-]*)*)/g;

/** Absolute paths of a developer's or CI's machine, and the team's folder by name. */
const MACHINE_PATH = /(?<![\w.-])\/(?:work|home|Users|tmp\/bash_jobs)\/[\w.-]+|(?:^|[^\w.])\.\.\/shared\b/;

function trackedFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return listed.split('\n').filter((file) => file !== '' && !SKIPPED.test(file));
}

function escapes(file: string, climbing: string, rest: string): boolean {
  const target = resolve(ROOT, dirname(file), climbing + rest);
  return relative(ROOT, target).startsWith('..');
}

describe('the repository stands alone', () => {
  const files = trackedFiles();

  it('finds the files it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'src/server.ts']));
  });

  it('has no tracked file that refers to a path outside the repository', () => {
    const outside: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      text.split('\n').forEach((line, index) => {
        const where = `${file}:${index + 1}: ${line.trim().slice(0, 120)}`;
        if (MACHINE_PATH.test(line)) outside.push(where);
        for (const match of line.matchAll(CLIMBING_PATH)) {
          if (escapes(file, match[1]!, match[2]!)) outside.push(where);
        }
      });
    }
    expect(outside).toEqual([]);
  });
});
