import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import type { UpstreamMode } from '../../src/config';
import { FIXTURES } from '../support/fixtures';
import { type Harness, startHarnessFor, type V3Harness } from '../support/proxy-harness';
import { post, type RawResponse } from '../support/raw-http';
import { nextEvent } from '../support/wait';
import { withTimeout } from '../../src/with-timeout';

/**
 * Property: whatever multipart body a client sends, the proxy answers in bounded time with 201 or a
 * 4xx (never a 5xx for the client's own mistake), and forwards either exactly one file's bytes in full
 * (201) or nothing complete (4xx). FUZZ_RUNS raises the count for a local soak (e.g. FUZZ_RUNS=5000).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const ANSWER_BOUND_MS = 5_000;

// ---- the generated model -------------------------------------------------------------------------

const fixtureBytes = fc.constantFrom(...FIXTURES.map((fixture) => fixture.bytes));

/** File contents, from valid to hostile. */
const fileData = fc.oneof(
  { weight: 4, arbitrary: fixtureBytes },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  // A real header, then something else entirely: the type "changes" after the first bytes.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fixtureBytes, fc.integer({ min: 1, max: 64 }), fc.uint8Array({ minLength: 0, maxLength: 4096 }))
      .map(([bytes, keep, rest]) => Buffer.concat([bytes.subarray(0, keep), Buffer.from(rest)])),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((bytes) => Buffer.from(bytes)) },
  // Bytes that look like multipart framing inside the file.
  { weight: 1, arbitrary: fixtureBytes.map((bytes) => Buffer.concat([bytes, Buffer.from('\r\n--x\r\n\r\n--')])) },
);

/** Part names, including encodings and characters a naive parser might trip on. */
const partName = fc.oneof(
  { weight: 6, arbitrary: fc.constant('file') },
  { weight: 3, arbitrary: fc.constantFrom('note', 'other', '', 'FILE', 'file[]', 'fïlé', 'ファイル', 'a"b', 'a\\"b', 'file\u0000', '\u202efile') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant('n'.repeat(500)) },
);

const partContentType = fc.option(
  fc.constantFrom(
    'image/png',
    'image/jpeg',
    'video/mp4',
    'video/webm',
    'audio/mpeg',
    'application/octet-stream',
    'text/plain',
    'image/gif',
    'IMAGE/PNG; charset=binary',
    'multipart/mixed; boundary=inner',
    ';;;',
  ),
  { nil: undefined },
);

/** How the part's header block is written: normal, or broken in one of several ways. */
const headerStyle = fc.constantFrom(
  'plain',
  'plain',
  'plain',
  'rfc5987-name',
  'latin1-name',
  'no-disposition',
  'not-form-data',
  'oversized-header',
  'line-without-colon',
  'many-headers',
  'unquoted',
);

interface PartModel {
  readonly name: string;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly data: Buffer;
  readonly style: string;
  readonly nested: boolean;
}

const part: fc.Arbitrary<PartModel> = fc.record({
  name: partName,
  filename: fc.option(fc.constantFrom('a.png', 'clip.mp4', '', '../../etc/passwd', 'é.jpg', 'x'.repeat(300)), { nil: undefined }),
  contentType: partContentType,
  data: fileData,
  style: headerStyle,
  nested: fc.constantFrom(false, false, false, false, true),
});

interface BodyModel {
  readonly parts: PartModel[];
  readonly boundary: string;
  readonly declaredBoundary: 'same' | 'other' | 'missing' | 'quoted' | 'too-long';
  readonly preamble: boolean;
  readonly closing: boolean;
  readonly lfOnly: boolean;
  /** Cut the body at this fraction of its length (1 = whole). */
  readonly keepFraction: number;
}

const body: fc.Arbitrary<BodyModel> = fc.record({
  parts: fc.oneof({ weight: 5, arbitrary: fc.array(part, { minLength: 0, maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(part, { minLength: 5, maxLength: 40 }) }),
  boundary: fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,60}$/),
  declaredBoundary: fc.constantFrom('same', 'same', 'same', 'same', 'other', 'missing', 'quoted', 'too-long'),
  preamble: fc.boolean(),
  closing: fc.constantFrom(true, true, true, false),
  lfOnly: fc.constantFrom(false, false, false, false, true),
  keepFraction: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }),
});

// ---- serialising the model to bytes --------------------------------------------------------------

function partHeaders(model: PartModel): Buffer {
  const filename = model.filename === undefined ? '' : `; filename="${model.filename}"`;
  const quotedName = `name="${model.name}"`;
  const lines: Buffer[] = [];
  switch (model.style) {
    case 'rfc5987-name':
      lines.push(Buffer.from(`Content-Disposition: form-data; name*=UTF-8''${encodeURIComponent(model.name)}${filename}`));
      break;
    case 'latin1-name':
      lines.push(Buffer.from(`Content-Disposition: form-data; ${quotedName}${filename}`, 'latin1'));
      break;
    case 'no-disposition':
      break;
    case 'not-form-data':
      lines.push(Buffer.from(`Content-Disposition: attachment; ${quotedName}${filename}`));
      break;
    case 'unquoted':
      lines.push(Buffer.from(`Content-Disposition: form-data; name=${model.name}${filename}`));
      break;
    default:
      lines.push(Buffer.from(`Content-Disposition: form-data; ${quotedName}${filename}`));
  }
  if (model.contentType !== undefined) lines.push(Buffer.from(`Content-Type: ${model.contentType}`));
  if (model.style === 'oversized-header') lines.push(Buffer.from(`X-Padding: ${'p'.repeat(20_000)}`));
  if (model.style === 'line-without-colon') lines.push(Buffer.from('this line has no colon'));
  if (model.style === 'many-headers') for (let index = 0; index < 40; index += 1) lines.push(Buffer.from(`X-H${index}: v`));
  return Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\r\n')]));
}

function nestedMultipart(data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('--inner\r\nContent-Disposition: form-data; name="file"; filename="in.png"\r\nContent-Type: image/png\r\n\r\n'),
    data,
    Buffer.from('\r\n--inner--\r\n'),
  ]);
}

function serialise(model: BodyModel): { bytes: Buffer; contentType: string; fileData: Buffer[] } {
  const chunks: Buffer[] = [];
  if (model.preamble) chunks.push(Buffer.from('preamble text that parsers must skip\r\n'));
  const fileData: Buffer[] = [];
  for (const item of model.parts) {
    const data = item.nested ? nestedMultipart(item.data) : item.data;
    fileData.push(data);
    chunks.push(Buffer.from(`--${model.boundary}\r\n`), partHeaders(item), Buffer.from('\r\n'), data, Buffer.from('\r\n'));
  }
  if (model.closing) chunks.push(Buffer.from(`--${model.boundary}--\r\n`));
  let bytes = Buffer.concat(chunks);
  if (model.lfOnly) bytes = Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  bytes = bytes.subarray(0, Math.floor(bytes.length * model.keepFraction));
  const declared = {
    same: `; boundary=${model.boundary}`,
    other: `; boundary=${model.boundary}x`,
    missing: '',
    quoted: `; boundary="${model.boundary}"`,
    'too-long': `; boundary=${'b'.repeat(200)}`,
  }[model.declaredBoundary];
  return { bytes, contentType: `multipart/form-data${declared}`, fileData };
}

// ---- the property --------------------------------------------------------------------------------

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Fails if the proxy has not answered within `ms`: a hang is a failure, not a slow pass. */
const within = <T>(ms: number, work: Promise<T>): Promise<T> => withTimeout(work, ms, `no answer within ${ms} ms`);

/** Sends one generated body; checks the answer and what reached the stand-in. */
async function checkOne(harness: Harness | V3Harness, model: BodyModel): Promise<void> {
  const { bytes, contentType, fileData } = serialise(model);
  // What both stand-ins record of an upload (v3: of the file part of POST /v3/assets).
  const received = harness.standIn.received as readonly { complete: boolean; status: number | undefined; sha256: string; bytes: number }[];
  const before = received.length;
  let arrivals = 0;
  const onRequest = (_req: IncomingMessage): void => {
    arrivals += 1;
  };
  harness.standIn.events.on('request', onRequest);
  let response: RawResponse;
  try {
    response = await within(ANSWER_BOUND_MS, post(harness.uploadUrl, bytes, { 'Content-Type': contentType }));
    await harness.server.deps.gate.idle();
    // Every upstream request that started has ended (completed or aborted) before judging it.
    while (received.length - before < arrivals) await nextEvent(harness.standIn.events, 'received');
  } finally {
    harness.standIn.events.off('request', onRequest);
  }
  const seen = received.slice(before);
  const complete = seen.filter((upload) => upload.complete && upload.status === 200);
  if (response.status === 201) {
    expect(complete).toHaveLength(1);
    expect(fileData.map(sha256)).toContain(complete[0]!.sha256);
    expect(complete[0]!.bytes).toBeGreaterThan(0);
  } else {
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect((response.json as { error?: { code?: string } } | undefined)?.error?.code).toEqual(expect.any(String));
    expect(seen.filter((upload) => upload.complete)).toEqual([]);
  }
}

describe.each<['v1' | 'v3', UpstreamMode]>([
  ['v1', 'buffered'],
  ['v1', 'streaming'],
  ['v3', 'buffered'],
  ['v3', 'streaming'],
])('hostile multipart bodies, HeyGen %s, %s mode', (api, mode) => {
  let harness: Harness | V3Harness;
  beforeAll(async () => {
    harness = await startHarnessFor(api, { UPSTREAM_MODE: mode, LOG_LEVEL: 'warn', MAX_IMAGE_BYTES: String(64 * 1024) });
  });
  afterAll(() => harness.close());

  it(`answer 201 with exactly the file's bytes, or a 4xx with nothing forwarded (${RUNS} bodies)`, async () => {
    await fc.assert(
      fc.asyncProperty(body, (model) => checkOne(harness, model)),
      { numRuns: RUNS },
    );
    // Still serving, and nothing left in the spool.
    const png = FIXTURES[0]!;
    const form = serialise({
      parts: [{ name: 'file', filename: 'a.png', contentType: png.mediaType, data: png.bytes, style: 'plain', nested: false }],
      boundary: 'ok',
      declaredBoundary: 'same',
      preamble: false,
      closing: true,
      lfOnly: false,
      keepFraction: 1,
    });
    expect((await post(harness.uploadUrl, form.bytes, { 'Content-Type': form.contentType })).status).toBe(201);
    expect(await readdir(harness.spoolDir)).toEqual([]);
  });
});
