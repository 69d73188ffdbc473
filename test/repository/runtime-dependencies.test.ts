import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The production install is `npm ci --omit=dev` (a one-liner that installed everything would bring the browser-test
 * tools too), so everything `npm start` loads must come from `dependencies`. This follows what
 * dist/server.js would require, from src/server.ts through every relative import, compiling each file
 * as tsc does (type-only imports vanish, so @types packages and `import type` are rightly ignored),
 * and fails on any package that is not a runtime dependency: a devDependency, or one only present
 * because something else pulled it in. In-process, without building dist.
 */
const ROOT = resolve(__dirname, '..', '..');
const ENTRY = join(ROOT, 'src', 'server.ts');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const BUILTINS = new Set(builtinModules);
// Either quote: tsc writes imports with double quotes, and a module loaded on first use (dependencies.ts,
// upload-token.ts) is a require() in the source, kept as written. Both load at run time.
const REQUIRE = /\brequire\((?:"([^"]+)"|'([^']+)')\)/g;

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function sourceFileOf(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

/** The files `entry` loads at run time, and every package they require (with the file that requires it). */
function runtimeClosure(entry: string): { files: string[]; packages: Map<string, string> } {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    for (const [, doubleQuoted, singleQuoted] of outputText.matchAll(REQUIRE)) {
      const specifier = doubleQuoted ?? singleQuoted;
      if (specifier!.startsWith('.')) {
        const next = sourceFileOf(file, specifier!);
        if (next !== undefined) pending.push(next);
        else if (!existsSync(resolve(dirname(file), specifier!))) throw new Error(`${relative(ROOT, file)} requires ${specifier}, which does not exist`);
      } else if (!specifier!.startsWith('node:') && !BUILTINS.has(specifier!)) {
        packages.set(packageOf(specifier!), relative(ROOT, file));
      }
    }
  }
  return { files: [...seen].map((file) => relative(ROOT, file)), packages };
}

describe('what npm start loads', () => {
  const { files, packages } = runtimeClosure(ENTRY);

  it('starts from the file the start script runs', () => {
    expect(manifest.scripts.start).toMatch(/ dist\/server\.js$/);
    // The walk reaches the whole app, not just the entry file.
    expect(files).toEqual(expect.arrayContaining(['src/app.ts', 'src/config.ts', 'src/http/origin-policy.ts']));
    expect([...packages.keys()]).toEqual(expect.arrayContaining(['express', 'axios', 'multer', '@tus/server', 'pino', 'zod', 'redis', 'jsonwebtoken']));
  });

  it('comes only from dependencies, never from devDependencies or a package pulled in by another', () => {
    const outside = [...packages].filter(([name]) => !(name in manifest.dependencies)).map(([name, file]) => `${name} (required by ${file}${name in manifest.devDependencies ? ', a devDependency' : ''})`);
    expect(outside).toEqual([]);
  });

  it('never reaches the development stand-ins and launcher under src/dev', () => {
    // They may use devDependencies (tsx, tus-js-client); the image deletes dist/dev.
    expect(files.filter((file) => file.startsWith('src/dev/'))).toEqual([]);
  });
});
