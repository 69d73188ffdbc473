import { join } from 'node:path';
import { build } from 'esbuild';

/** client/'s entry point: the demo page and the browser tests load the client built from it. */
export const CLIENT_ENTRY = join(__dirname, '..', '..', 'client', 'src', 'index.ts');

/**
 * client/ bundled as `npm run client:build` bundles it (one ES module, nothing left to resolve), in
 * memory. The demo server builds it when it starts rather than serving client/dist: a fresh clone has
 * no build output, and a `prepare` script would also run on the production install
 * (`npm ci --omit=dev`), where esbuild is absent. esbuild takes a fraction of a second for it.
 */
export async function clientBundle(): Promise<string> {
  const result = await build({ entryPoints: [CLIENT_ENTRY], bundle: true, format: 'esm', target: 'es2022', write: false });
  return result.outputFiles[0]!.text;
}
