import jwt from 'jsonwebtoken';
import { Secret } from '../../src/secret';
import { MAX_UPLOAD_TOKEN_TTL_SECONDS, mintUploadToken, verifyUploadToken } from '../../src/http/upload-token';

const secret = new Secret('unit-test-secret-that-is-long-enough!!');

describe('upload tokens', () => {
  it('round-trips a subject and expiry', () => {
    const claims = verifyUploadToken(secret, mintUploadToken(secret, 'user-1', 120));
    expect(claims?.subject).toBe('user-1');
    expect(claims!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 100_000);
  });

  it('refuses tokens that live longer than an hour, even when correctly signed', () => {
    const longLived = jwt.sign({ iat: Math.floor(Date.now() / 1000) - MAX_UPLOAD_TOKEN_TTL_SECONDS - 5 }, secret.reveal(), {
      algorithm: 'HS256',
      audience: 'heygen-upload-proxy',
      subject: 'user-1',
      expiresIn: MAX_UPLOAD_TOKEN_TTL_SECONDS * 3,
    });
    expect(verifyUploadToken(secret, longLived)).toBeUndefined();
  });

  it('refuses another algorithm and a token without a subject', () => {
    const hs512 = jwt.sign({}, secret.reveal(), { algorithm: 'HS512', audience: 'heygen-upload-proxy', subject: 'u', expiresIn: 60 });
    expect(verifyUploadToken(secret, hs512)).toBeUndefined();
    const noSubject = jwt.sign({}, secret.reveal(), { algorithm: 'HS256', audience: 'heygen-upload-proxy', expiresIn: 60 });
    expect(verifyUploadToken(secret, noSubject)).toBeUndefined();
  });

  it('will not mint a token without a subject or with a long life', () => {
    expect(() => mintUploadToken(secret, '', 60)).toThrow(TypeError);
    expect(() => mintUploadToken(secret, 'u', MAX_UPLOAD_TOKEN_TTL_SECONDS + 1)).toThrow(TypeError);
  });
});
