import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertRedisServerInstalled } from './redis-server';

/** Debian's Chromium, which the browser tests drive (test/browser/support/chromium.ts names the same path). */
const CHROMIUM = '/usr/bin/chromium';

/** Stops the run at once, with a one-line hint, when something the tests need is missing: nothing is skipped. */
export default function globalSetup(): void {
  const fixtures = join(__dirname, '..', '..', '..', 'shared', 'fixtures');
  if (!existsSync(fixtures)) {
    throw new Error(`test fixtures not found at ${fixtures}: clone the repository beside shared/ (../shared/fixtures)`);
  }
  assertRedisServerInstalled();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install chromium (apt-get install chromium)`);
}
