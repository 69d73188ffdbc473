import { scrubSecret } from '../../src/heygen/scrub-secret';
import { Secret } from '../../src/secret';

const KEY = 'sk_Live-4f9a/B+c7=e2Qz';
const secret = new Secret(KEY);

/** Every way the key could come back from an upstream that these tests know of. */
const ENCODINGS: ReadonlyArray<readonly [string, string]> = [
  ['verbatim', KEY],
  ['upper-cased', KEY.toUpperCase()],
  ['lower-cased', KEY.toLowerCase()],
  ['URL-encoded (encodeURIComponent)', encodeURIComponent(KEY)],
  ['URL-encoded, lower-case hex', encodeURIComponent(KEY).toLowerCase()],
  ['percent-encoded byte by byte', [...Buffer.from(KEY)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('')],
  ['base64', Buffer.from(KEY).toString('base64')],
  ['base64 without padding', Buffer.from(KEY).toString('base64').replace(/=+$/, '')],
  ['base64url', Buffer.from(KEY).toString('base64url')],
  ['hex', Buffer.from(KEY).toString('hex')],
  ['hex, upper-case', Buffer.from(KEY).toString('hex').toUpperCase()],
  ['inside a Basic credential (offset 1)', Buffer.from(`u:${KEY}`).toString('base64')],
  ['inside a Basic credential (offset 2)', Buffer.from(`us:${KEY}`).toString('base64')],
  ['inside a Basic credential (offset 0)', Buffer.from(`use:${KEY}`).toString('base64')],
];

describe('scrubSecret', () => {
  it.each(ENCODINGS)('removes the key %s', (_how, echoed) => {
    const scrubbed = scrubSecret(`HeyGen said: key ${echoed} is not valid`, secret);
    expect(scrubbed).toContain('[redacted]');
    expect(scrubbed.startsWith('HeyGen said: key ')).toBe(true);
    expect(scrubbed.endsWith(' is not valid')).toBe(true);
    // What is left of an encoded key is at most the partial base64 group at either end: never the key's text.
    for (const [, encoding] of ENCODINGS) {
      if (encoding.length > 8) expect(scrubbed).not.toContain(encoding);
    }
    expect(scrubbed.toLowerCase()).not.toContain(KEY.toLowerCase());
  });

  it('leaves text without the key alone', () => {
    const text = 'Unauthorized: the key sk_Live-0000 is not valid (code 400112)';
    expect(scrubSecret(text, secret)).toBe(text);
  });

  it('removes every occurrence', () => {
    expect(scrubSecret(`${KEY} and ${KEY.toUpperCase()} and ${Buffer.from(KEY).toString('base64')}`, secret)).toBe(
      '[redacted] and [redacted] and [redacted]',
    );
  });
});
