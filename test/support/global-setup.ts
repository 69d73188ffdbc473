import { existsSync } from 'node:fs';
import { assertRedisServerInstalled } from './redis-server';

/** Debian's Chromium, which the browser tests drive (test/browser/support/chromium.ts names the same path). */
const CHROMIUM = '/usr/bin/chromium';

/** Stops the run at once, with a one-line hint, when something the tests need is missing: nothing is skipped. */
export default function globalSetup(): void {
  assertRedisServerInstalled();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install chromium (apt-get install chromium)`);
}
