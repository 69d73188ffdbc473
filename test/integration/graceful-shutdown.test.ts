import { once } from 'node:events';
import type { StandInHeygen } from '../../src/dev/stand-in-heygen';
import { startStandInHeygen } from '../../src/dev/stand-in-heygen';
import { fixture, paddedFile, sha256 } from '../support/fixtures';
import { singleFileFraming } from '../support/multipart';
import { TEST_API_KEY } from '../support/proxy-harness';
import { openPost } from '../support/raw-http';
import { startServerProcess } from '../support/server-process';
import { nextEvent } from '../support/wait';

describe('graceful shutdown', () => {
  let standIn: StandInHeygen;
  beforeAll(async () => {
    standIn = await startStandInHeygen({ apiKey: TEST_API_KEY });
  });
  afterAll(() => standIn.close());

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s finishes the upload in flight, refuses new ones, and exits 0', async (signal) => {
    const server = await startServerProcess({
      HEYGEN_API_KEY: TEST_API_KEY,
      HEYGEN_API: 'v1',
      HEYGEN_UPLOAD_URL: standIn.url,
      HOST: '127.0.0.1',
      PORT: '0',
      UPSTREAM_MODE: 'streaming',
      SHUTDOWN_GRACE_MS: '20000',
    });
    const video = paddedFile(fixture('sample.mp4'), 3 * 1024 * 1024);
    const framing = singleFileFraming('v.mp4', 'video/mp4');
    const { req, response } = openPost(`${server.url}/v1/asset`, {
      'Content-Type': framing.contentType,
      'Content-Length': String(framing.head.length + video.length + framing.tail.length),
    });
    const upstreamStarted = nextEvent(standIn.events, 'request');
    req.write(framing.head);
    req.write(video.subarray(0, 1024 * 1024));
    await upstreamStarted;

    const exited = once(server.child, 'exit');
    server.child.kill(signal);
    await new Promise<void>((resolve) => {
      const check = (): void => (server.output().includes('shutting down') ? resolve() : void server.child.stdout?.once('data', check));
      check();
    });

    // New uploads are refused: the listener is closed, so a new connection cannot even be made.
    await expect(fetch(`${server.url}/readyz`)).rejects.toThrow();

    req.end(Buffer.concat([video.subarray(1024 * 1024), framing.tail]));
    const answer = await response;
    expect(answer.status).toBe(201);
    expect(standIn.received.at(-1)!.sha256).toBe(sha256(video));

    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(server.output()).toContain('shutdown complete');
  });
});
