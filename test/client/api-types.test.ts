import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * client/src/api-types.ts is generated from src/http/openapi.json (`npm run client:types`). A change
 * to the document (a new error code, a renamed field) without regenerating would leave the client's
 * types describing an API that no longer exists: regenerate here and compare byte for byte.
 */
const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

it('client/src/api-types.ts is what openapi-typescript generates from src/http/openapi.json today', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
  try {
    const out = join(dir, 'api-types.ts');
    execFileSync(process.execPath, [CLI, join(ROOT, 'src', 'http', 'openapi.json'), '-o', out], { stdio: 'pipe' });
    const committed = readFileSync(join(ROOT, 'client', 'src', 'api-types.ts'), 'utf8');
    // A failure here: run `npm run client:types` and commit the result.
    expect(committed).toBe(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
