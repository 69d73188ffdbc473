import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { assertRedisServerInstalled } from './redis-server';
import { assertCephInstalled } from './s3-server';

/** Debian's Chromium, which the browser tests drive (test/browser/support/chromium.ts names the same path). */
const CHROMIUM = '/usr/bin/chromium';

/** Stops the run at once, with a one-line hint, when something the tests need is missing: nothing is skipped. */
export default function globalSetup(): void {
  assertRedisServerInstalled();
  assertCephInstalled();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install chromium (apt-get install chromium)`);
  // The deploy tests render k8s/ with kubectl's own kustomize.
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    throw new Error('kubectl not found on PATH: install it (apt-get install kubectl, from the Kubernetes package repository) to render k8s/');
  }
}
