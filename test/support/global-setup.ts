import { existsSync } from 'node:fs';
import { FIXTURES_DIR } from './fixtures';

/** Fails the run at once, with a one-line hint, when something the tests need is missing. */
export default function globalSetup(): void {
  if (!existsSync(FIXTURES_DIR)) {
    throw new Error(`test fixtures not found at ${FIXTURES_DIR}: clone the repository beside shared/ (../shared/fixtures)`);
  }
}
