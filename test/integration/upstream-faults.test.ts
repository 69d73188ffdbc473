import type { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { UpstreamMode } from '../../src/config';
import type { StandInFault } from '../../src/dev/stand-in-heygen';
import type { StandInV3Fault } from '../../src/dev/stand-in-heygen-v3';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody } from '../support/multipart';
import { type Harness, startHarness, startV3Harness, TEST_API_KEY, type V3Harness } from '../support/proxy-harness';
import { post, type RawResponse } from '../support/raw-http';
import { freeLoopbackPort } from '../support/redis-server';
import { withTimeout } from '../../src/with-timeout';
import { UPSTREAM_BUFFER_BYTES } from '../../src/upload/streaming-upload';

const MIB = 1024 * 1024;
/** Small, so hang and trickle end quickly; the bound below is what the tests hold the proxy to. */
const UPSTREAM_TIMEOUT_MS = 400;
/** Every fault must be answered well within this, whatever the upstream does. */
const ANSWER_BOUND_MS = 5_000;

/** Text the stand-in sends in its faulty answers: none of it may reach the client. */
const UPSTREAM_TEXT = ['javascript:', 'onerror', 'Too many requests', 'Insufficient credit', 'Video format', 'Internal error', 'Bad gateway', '<html', 'Asset could not be processed', 'xxxxxxxx', 'redirected', 'Unauthorized', '400112', '40001', TEST_API_KEY];

interface FaultCase {
  readonly fault: StandInFault;
  readonly code: ErrorCode;
  /**
   * Upstream requests seen per way the body went: held whole (buffered mode, and in streaming mode a
   * request that fits the streaming buffer) is retried once after a connection failure; streamed, never.
   */
  readonly requests: Readonly<Record<UpstreamMode, number>>;
}

const FAULTS: readonly FaultCase[] = [
  { fault: 'drop-connection', code: 'UPSTREAM_ERROR', requests: { buffered: 2, streaming: 1 } },
  { fault: 'reset-mid-body', code: 'UPSTREAM_ERROR', requests: { buffered: 2, streaming: 1 } },
  { fault: 'hang', code: 'UPSTREAM_TIMEOUT', requests: { buffered: 1, streaming: 1 } },
  { fault: 'stall-reading', code: 'UPSTREAM_TIMEOUT', requests: { buffered: 1, streaming: 1 } },
  { fault: 'trickle-response', code: 'UPSTREAM_TIMEOUT', requests: { buffered: 1, streaming: 1 } },
  { fault: 'status-500', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'non-json', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'code-error', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'huge-body', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'redirect', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'unauthorized', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'unsafe-record', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'insufficient-credit', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'rate-limited', code: 'UPSTREAM_BUSY', requests: { buffered: 1, streaming: 1 } },
  { fault: 'rejected-file', code: 'UPSTREAM_REJECTED_FILE', requests: { buffered: 1, streaming: 1 } },
];

/** Fails if the proxy has not answered within `ms`: a hang is a failure, not a slow pass. */
const within = <T>(ms: number, work: Promise<T>): Promise<T> => withTimeout(work, ms, `no answer within ${ms} ms`);

function upload(harness: { uploadUrl: string }, data: Buffer, contentType: string): Promise<RawResponse> {
  const form = multipartBody([{ name: 'file', filename: 'upload', contentType, data }]);
  return within(ANSWER_BOUND_MS, post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType }));
}

/**
 * Sets a fault and sends one upload. Upstream attempts are counted as they arrive: every attempt (and
 * every retry) starts before the answer, while the stand-in's own record of a stalled request can lag
 * (it stops reading, so it cannot see the proxy close the connection until the kernel gives up).
 */
async function underFault(
  harness: { uploadUrl: string; standIn: { events: EventEmitter } },
  setFault: () => void,
  data: Buffer,
  contentType: string,
): Promise<{ response: RawResponse; arrivals: string[]; followedRedirect: boolean }> {
  let followedRedirect = false;
  const onRedirect = (): void => {
    followedRedirect = true;
  };
  const arrivals: string[] = [];
  const onRequest = (req: IncomingMessage): void => {
    arrivals.push(req.url ?? '');
  };
  harness.standIn.events.on('redirect-followed', onRedirect);
  harness.standIn.events.on('request', onRequest);
  setFault();
  try {
    return { response: await upload(harness, data, contentType), arrivals, followedRedirect };
  } finally {
    harness.standIn.events.off('redirect-followed', onRedirect);
    harness.standIn.events.off('request', onRequest);
  }
}

function expectCatalogueAnswer(response: RawResponse, code: ErrorCode): void {
  expect(response.status).toBe(ERROR_CATALOGUE[code].status);
  const body = response.json as { error: { code: string; message: string; request_id: string } };
  expect(body.error.code).toBe(code);
  // The catalogue's own words exactly: nothing of what the upstream said.
  expect(body.error.message).toBe(ERROR_CATALOGUE[code].message);
  expect(Object.keys(body)).toEqual(['error']);
  const everything = `${response.text}\n${JSON.stringify(response.headers)}`;
  for (const text of UPSTREAM_TEXT) expect(everything).not.toContain(text);
}

describe.each<UpstreamMode>(['buffered', 'streaming'])('upstream faults in %s mode', (mode) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ UPSTREAM_MODE: mode, UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) });
  });
  afterAll(() => harness.close());
  beforeEach(() => {
    harness.standIn.received.length = 0;
    harness.standIn.setFault('none');
  });
  afterEach(async () => {
    await harness.server.deps.gate.idle();
    // Whatever the upstream did, nothing is left behind in the spool.
    expect(await readdir(harness.spoolDir)).toEqual([]);
    harness.standIn.setFault('none');
  });

  // Small files sit in memory; a 2 MiB one is spooled to a temp file and streamed from it.
  describe.each([
    ['a small PNG', fixture('sample.png').bytes, 'image/png'],
    ['a 2 MiB MP4', paddedFile(fixture('sample.mp4'), 2 * MIB), 'video/mp4'],
  ])('with %s', (_label, data, contentType) => {
    it.each(FAULTS)('$fault gives $code in bounded time, with nothing of the upstream leaked', async ({ fault, code, requests }) => {
      const { response, arrivals, followedRedirect } = await underFault(harness, () => harness.standIn.setFault(fault), data, contentType);
      expectCatalogueAnswer(response, code);
      expect(followedRedirect).toBe(false);
      expect(arrivals).toEqual(Array.from({ length: requests[sentAs(mode, data)] }, () => '/v1/asset'));
      // The log says what happened, never with the key in it (the 401 fault echoes it back).
      expect(harness.logs.text).not.toContain(TEST_API_KEY);
    });
  });

  it('retries a file held whole once when the connection drops before any response byte, and succeeds', async () => {
    harness.standIn.setFault('drop-connection', 1);
    const png = fixture('sample.png');
    const response = await upload(harness, png.bytes, 'image/png');
    expect(response.status).toBe(201);
    expect(harness.standIn.received).toHaveLength(2);
    expect(harness.standIn.received[1]).toMatchObject({ complete: true, bytes: png.bytes.length });
  });

  it(
    mode === 'buffered'
      ? 'retries a spooled file once when the connection drops before any response byte, and succeeds'
      : 'never retries a streamed file: a dropped connection is 502 after one attempt',
    async () => {
      harness.standIn.setFault('drop-connection', 1);
      const video = paddedFile(fixture('sample.mp4'), 2 * MIB);
      const response = await upload(harness, video, 'video/mp4');
      if (mode === 'buffered') {
        expect(response.status).toBe(201);
        expect(harness.standIn.received).toHaveLength(2);
        expect(harness.standIn.received[1]).toMatchObject({ complete: true, bytes: video.length });
      } else {
        expectCatalogueAnswer(response, 'UPSTREAM_ERROR');
        expect(harness.standIn.received).toHaveLength(1);
      }
    },
  );

  it('behaves again once the fault is over', async () => {
    harness.standIn.setFault('status-500', 1);
    expect((await upload(harness, fixture('sample.png').bytes, 'image/png')).status).toBe(502);
    expect((await upload(harness, fixture('sample.png').bytes, 'image/png')).status).toBe(201);
  });
});

describe.each<UpstreamMode>(['buffered', 'streaming'])('a refused upstream connection in %s mode', (mode) => {
  let harness: Harness;
  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens there, so every connection is refused.
    const closedPort = await freeLoopbackPort();
    harness = await startHarness({ UPSTREAM_MODE: mode, HEYGEN_UPLOAD_URL: `http://127.0.0.1:${closedPort}/v1/asset` });
  });
  afterAll(() => harness.close());

  it('gives 502 in bounded time, with nothing leaked', async () => {
    const response = await upload(harness, fixture('sample.jpg').bytes, 'image/jpeg');
    expectCatalogueAnswer(response, 'UPSTREAM_ERROR');
    expect(response.text).not.toContain('ECONNREFUSED');
    expect(response.text).not.toContain('127.0.0.1');
    expect(harness.logs.text).not.toContain(TEST_API_KEY);
    expect(harness.logs.text).toContain('ECONNREFUSED');
  });
});

/** The same faults against HeyGen's v3 API: what each becomes, and how often the proxy may try. */
interface V3FaultCase {
  readonly fault: StandInV3Fault;
  readonly code: ErrorCode;
  /** Calls to POST /v3/assets per way the body went: one held whole is resent (same Idempotency-Key) up to 3 times; a streamed one cannot be. */
  readonly requests: Readonly<Record<UpstreamMode, number>>;
}

const V3_FAULTS: readonly V3FaultCase[] = [
  { fault: 'drop-connection', code: 'UPSTREAM_ERROR', requests: { buffered: 3, streaming: 1 } },
  { fault: 'reset-mid-body', code: 'UPSTREAM_ERROR', requests: { buffered: 3, streaming: 1 } },
  { fault: 'hang', code: 'UPSTREAM_TIMEOUT', requests: { buffered: 1, streaming: 1 } },
  { fault: 'stall-reading', code: 'UPSTREAM_TIMEOUT', requests: { buffered: 1, streaming: 1 } },
  { fault: 'trickle-response', code: 'UPSTREAM_TIMEOUT', requests: { buffered: 1, streaming: 1 } },
  { fault: 'status-500', code: 'UPSTREAM_ERROR', requests: { buffered: 3, streaming: 1 } },
  { fault: 'bad-gateway-html', code: 'UPSTREAM_ERROR', requests: { buffered: 3, streaming: 1 } },
  { fault: 'non-json', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'huge-body', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'redirect', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'unauthorized', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'insufficient-credit', code: 'UPSTREAM_ERROR', requests: { buffered: 1, streaming: 1 } },
  { fault: 'rate-limited', code: 'UPSTREAM_BUSY', requests: { buffered: 1, streaming: 1 } },
  { fault: 'invalid-parameter', code: 'UPSTREAM_REJECTED_FILE', requests: { buffered: 1, streaming: 1 } },
];

/** What the v3 stand-in says in its faulty answers: none of it may reach the client. */
const V3_UPSTREAM_TEXT = ['internal_error', 'insufficient_credit', 'rate_limit_exceeded', 'invalid_parameter', 'Insufficient credit', '<html', 'redirected', TEST_API_KEY];

describe.each<UpstreamMode>(['buffered', 'streaming'])('HeyGen v3 upstream faults in %s mode', (mode) => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness({ UPSTREAM_MODE: mode, UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) });
  });
  afterAll(() => harness.close());
  afterEach(async () => {
    harness.standIn.setFault('none');
    await harness.server.deps.gate.idle();
    expect(await readdir(harness.spoolDir)).toEqual([]);
  });

  describe.each([
    ['a small PNG', fixture('sample.png').bytes, 'image/png'],
    ['a 2 MiB MP4', paddedFile(fixture('sample.mp4'), 2 * MIB), 'video/mp4'],
  ])('with %s', (_label, data, contentType) => {
    it.each(V3_FAULTS)('$fault gives $code in bounded time, with nothing of the upstream leaked', async ({ fault, code, requests }) => {
      const { response, arrivals, followedRedirect } = await underFault(harness, () => harness.standIn.setFault(fault), data, contentType);
      expect(response.status).toBe(ERROR_CATALOGUE[code].status);
      expect((response.json as { error: { code: string } }).error.code).toBe(code);
      const everything = `${response.text}\n${JSON.stringify(response.headers)}`;
      for (const text of V3_UPSTREAM_TEXT) expect(everything).not.toContain(text);
      expect(followedRedirect).toBe(false);
      expect(arrivals).toEqual(Array.from({ length: requests[sentAs(mode, data)] }, () => '/v3/assets'));
      expect(harness.logs.text).not.toContain(TEST_API_KEY);
    });
  });
});

/** How the proxy sends `data` in `mode`: streamed only in streaming mode and when the request outgrows the streaming buffer. */
function sentAs(mode: UpstreamMode, data: Buffer): UpstreamMode {
  return mode === 'streaming' && data.length > UPSTREAM_BUFFER_BYTES ? 'streaming' : 'buffered';
}
