import { readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody, singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, readResponse, type RawResponse } from '../support/raw-http';
import { nextEvent, waitForDirectory } from '../support/wait';

/**
 * A short soak in CI: a few hundred mixed uploads, then 100 uploads aborted mid-body; afterwards the
 * process's descriptors and the spool are back where they started. (`npm run soak` is the long form.)
 */
const REQUESTS = 300;
const ABORTS = 100;
const CONCURRENCY = 16;
const KIB = 1024;
const SIZES = [10 * KIB, 100 * KIB, 900 * KIB, 1200 * KIB, 3 * 1024 * KIB];

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

function upload(agent: http.Agent, url: string, body: Buffer, contentType: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': contentType, 'Content-Length': body.length } }, (res) => {
      readResponse(res).then(resolve, reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Runs `count` jobs, `concurrency` at a time. */
async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function descriptorKinds(): { total: number; sockets: number; other: number } {
  const targets = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return 'gone';
    }
  });
  // The inotify descriptor is this test's own directory watcher (waitForDirectory), closed a turn later.
  const live = targets.filter((target) => target !== 'gone' && target !== 'anon_inode:inotify');
  const sockets = live.filter((target) => target.startsWith('socket:')).length;
  return { total: live.length, sockets, other: live.length - sockets };
}

/** Descriptors close a few event-loop turns after their sockets end; yield turns (no timers), bounded. */
async function settleDescriptors(limit: number): Promise<number> {
  let count = openDescriptors();
  for (let turn = 0; turn < 10_000 && count > limit; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    count = openDescriptors();
  }
  return count;
}

describe.each(['buffered', 'streaming'])('a short soak in %s mode', (mode) => {
  let harness: Harness;
  let agent: http.Agent;
  beforeAll(async () => {
    harness = await startHarness({ UPSTREAM_MODE: mode, LOG_LEVEL: 'warn' });
    agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  });
  afterAll(async () => {
    agent.destroy();
    await harness.close();
  });

  it(`answers ${REQUESTS} mixed uploads with 201, and after ${ABORTS} aborts holds no more descriptors or temp files than before`, async () => {
    const mp4 = fixture('sample.mp4');
    const forms = SIZES.map((size) => multipartBody([{ name: 'file', filename: 'v.mp4', contentType: 'video/mp4', data: paddedFile(mp4, size) }]));
    // Warm up at full concurrency so keep-alive pools (client, proxy->upstream) are at their working size.
    await pool(CONCURRENCY, CONCURRENCY, async (index) => {
      const form = forms[index % forms.length]!;
      expect((await upload(agent, harness.uploadUrl, form.body, form.contentType)).status).toBe(201);
    });
    await harness.server.deps.gate.idle();
    await settleDescriptors(0);
    const baseline = descriptorKinds();

    const statuses = new Map<number, number>();
    await pool(REQUESTS, CONCURRENCY, async (index) => {
      const form = forms[index % forms.length]!;
      const { status } = await upload(agent, harness.uploadUrl, form.body, form.contentType);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    expect(Object.fromEntries(statuses)).toEqual({ 201: REQUESTS });

    // Aborts: 2 MiB of an 8 MiB upload, then the connection is destroyed once the proxy has taken it in.
    await pool(ABORTS, CONCURRENCY, async () => {
      const framing = singleFileFraming('big.mp4', 'video/mp4');
      const pending = openPost(harness.uploadUrl, {
        'Content-Type': framing.contentType,
        'Content-Length': String(framing.head.length + 8 * 1024 * KIB + framing.tail.length),
      });
      pending.req.write(framing.head);
      const written = new Promise<void>((resolve) => pending.req.write(paddedFile(mp4, 2 * 1024 * KIB), () => resolve()));
      await written;
      pending.req.destroy();
    });
    await harness.server.deps.gate.idle();
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
    // Streaming aborts end at the stand-in; let every upstream request it saw finish.
    while (harness.standIn.openConnections() > CONCURRENCY) await nextEvent(harness.standIn.events, 'received', () => true, 10_000);

    // Files and pipes exactly as before (a leaked spool file would stay open after its unlink);
    // sockets within the keep-alive pools' caps (client and proxy->upstream, both ends in this process),
    // far below the hundred an abort leak would leave.
    const after = await settleDescriptors(baseline.total);
    const now = descriptorKinds();
    expect(now.other).toBeLessThanOrEqual(baseline.other);
    expect(now.sockets).toBeLessThanOrEqual(baseline.sockets + 2 * CONCURRENCY);
    expect(after).toBeLessThan(baseline.total + ABORTS / 2);
  });
});
