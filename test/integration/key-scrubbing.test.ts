import request from 'supertest';
import type { StandInFault } from '../../src/dev/stand-in-heygen';
import { fixture } from '../support/fixtures';
import { type Harness, startHarness, TEST_API_KEY } from '../support/proxy-harness';

const png = fixture('sample.png');

/** The key as the echoing faults write it, and other encodings a log reader could decode. */
const KEY_ENCODINGS = [
  TEST_API_KEY,
  TEST_API_KEY.toUpperCase(),
  Buffer.from(TEST_API_KEY).toString('base64'),
  Buffer.from(TEST_API_KEY).toString('base64').replace(/=+$/, ''),
  Buffer.from(TEST_API_KEY).toString('base64url'),
  [...Buffer.from(TEST_API_KEY)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join(''),
];

describe('an upstream that echoes the API key in some encoding', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ LOG_LEVEL: 'info' });
  });
  afterAll(() => harness.close());

  it.each<StandInFault>(['unauthorized', 'unauthorized-base64', 'unauthorized-upper-case', 'unauthorized-percent-encoded'])(
    'gets no form of the key into the log (%s)',
    async (fault) => {
      harness.standIn.setFault(fault, 1);
      const requestId = `scrub-${fault}`;
      const response = await request(harness.url)
        .post('/v1/asset')
        .set('X-Request-Id', requestId)
        .attach('file', png.bytes, { filename: 'a.png', contentType: 'image/png' });
      expect(response.status).toBe(502);

      const [line] = harness.logs.entries().filter((entry) => entry.reqId === requestId);
      // The log still says what HeyGen said, with the key replaced.
      expect(line?.detail).toMatch(/^HeyGen refused the server's credentials \(key_invalid\): HeyGen answered 401 code 400112: Unauthorized: key \[redacted\] is not valid$/);
      const everything = `${harness.logs.text}\n${response.text}`;
      for (const encoding of KEY_ENCODINGS) expect(everything).not.toContain(encoding);
      expect(everything.toLowerCase()).not.toContain(TEST_API_KEY.toLowerCase());
    },
  );
});
