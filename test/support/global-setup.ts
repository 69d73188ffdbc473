import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertRedisServerInstalled } from './redis-server';

/** Fails the run at once, with a one-line hint, when something the tests need is missing. */
export default function globalSetup(): void {
  const fixtures = join(__dirname, '..', '..', '..', 'shared', 'fixtures');
  if (!existsSync(fixtures)) {
    throw new Error(`test fixtures not found at ${fixtures}: clone the repository beside shared/ (../shared/fixtures)`);
  }
  assertRedisServerInstalled();
}
