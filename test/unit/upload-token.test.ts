import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Secret } from '../../src/secret';
import { MAX_UPLOAD_TOKEN_TTL_SECONDS, mintUploadToken, verifyUploadToken } from '../../src/http/upload-token';
import { UPLOAD_TOKEN_CLOCK_SKEW_SECONDS } from '../../src/http/upload-token';

const secret = new Secret('unit-test-secret-that-is-long-enough!!');
const AUDIENCE = 'heygen-upload-proxy';
/** A fixed "now" so the edges below are exact, whatever second the test runs in. */
const NOW = 1_800_000_000;

/** Signs exactly the claims given (HS256), so a test can build tokens jsonwebtoken's sign() would not. */
function signRaw(claims: Record<string, unknown>): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret.reveal()).update(unsigned).digest('base64url')}`;
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { aud: AUDIENCE, sub: 'user-1', iat: NOW, exp: NOW + 300, ...overrides };
}

function verifyAtNow(token: string) {
  return verifyUploadToken(secret, token, NOW);
}

describe('upload tokens', () => {
  it('round-trips a subject and expiry', () => {
    const verified = verifyUploadToken(secret, mintUploadToken(secret, 'user-1', 120));
    expect(verified?.subject).toBe('user-1');
    expect(verified!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 100_000);
  });

  it('refuses tokens that live longer than an hour, even when correctly signed', () => {
    const longLived = jwt.sign({ iat: Math.floor(Date.now() / 1000) - MAX_UPLOAD_TOKEN_TTL_SECONDS - 5 }, secret.reveal(), {
      algorithm: 'HS256',
      audience: AUDIENCE,
      subject: 'user-1',
      expiresIn: MAX_UPLOAD_TOKEN_TTL_SECONDS * 3,
    });
    expect(verifyUploadToken(secret, longLived)).toBeUndefined();
  });

  it('refuses a token minted with jsonwebtoken for ten years (fresh iat, far exp)', () => {
    const tenYears = jwt.sign({}, secret.reveal(), { algorithm: 'HS256', audience: AUDIENCE, subject: 'user-1', expiresIn: '3650d' });
    expect(verifyUploadToken(secret, tenYears)).toBeUndefined();
  });

  it('refuses a token whose iat is a year ahead, however short its life looks', () => {
    const year = 365 * 24 * 60 * 60;
    expect(verifyAtNow(signRaw(claims({ iat: NOW + year, exp: NOW + year + 300 })))).toBeUndefined();
  });

  describe('lifetime (exp − iat) at the edge', () => {
    it('accepts exactly one hour', () => {
      const verified = verifyAtNow(signRaw(claims({ exp: NOW + MAX_UPLOAD_TOKEN_TTL_SECONDS })));
      expect(verified?.subject).toBe('user-1');
    });

    it('refuses one hour and one second', () => {
      expect(verifyAtNow(signRaw(claims({ exp: NOW + MAX_UPLOAD_TOKEN_TTL_SECONDS + 1 })))).toBeUndefined();
    });
  });

  describe('iat ahead of our clock at the edge', () => {
    it('has a skew allowance of 30 s', () => {
      expect(UPLOAD_TOKEN_CLOCK_SKEW_SECONDS).toBe(30);
    });

    it('accepts iat 29 s ahead', () => {
      expect(verifyAtNow(signRaw(claims({ iat: NOW + 29, exp: NOW + 29 + 300 })))?.subject).toBe('user-1');
    });

    it('accepts iat exactly at the allowance (30 s ahead)', () => {
      expect(verifyAtNow(signRaw(claims({ iat: NOW + 30, exp: NOW + 30 + 300 })))?.subject).toBe('user-1');
    });

    it('refuses iat 31 s ahead', () => {
      expect(verifyAtNow(signRaw(claims({ iat: NOW + 31, exp: NOW + 31 + 300 })))).toBeUndefined();
    });
  });

  it.each([
    ['without iat', { iat: undefined }],
    ['without exp', { exp: undefined }],
    ['without sub', { sub: undefined }],
    ['with an empty sub', { sub: '' }],
    ['with a numeric sub', { sub: 42 }],
    ['with an object sub', { sub: { id: 'user-1' } }],
    ['with a string iat', { iat: String(NOW) }],
    ['already expired', { exp: NOW - 1 }],
    ['for another audience', { aud: 'someone-else' }],
  ])('refuses a token %s', (_what, overrides) => {
    expect(verifyAtNow(signRaw(claims(overrides)))).toBeUndefined();
  });

  it('accepts the same claims when well-formed (the refusals above are for the named reason)', () => {
    expect(verifyAtNow(signRaw(claims()))?.subject).toBe('user-1');
  });

  it('refuses another algorithm and a token without a subject', () => {
    const hs512 = jwt.sign({}, secret.reveal(), { algorithm: 'HS512', audience: AUDIENCE, subject: 'u', expiresIn: 60 });
    expect(verifyUploadToken(secret, hs512)).toBeUndefined();
    const noSubject = jwt.sign({}, secret.reveal(), { algorithm: 'HS256', audience: AUDIENCE, expiresIn: 60 });
    expect(verifyUploadToken(secret, noSubject)).toBeUndefined();
  });

  it('will not mint a token without a subject or with a long life', () => {
    expect(() => mintUploadToken(secret, '', 60)).toThrow(TypeError);
    expect(() => mintUploadToken(secret, 'u', MAX_UPLOAD_TOKEN_TTL_SECONDS + 1)).toThrow(TypeError);
  });
});
