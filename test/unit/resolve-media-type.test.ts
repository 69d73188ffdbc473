import { ApiError } from '../../src/errors';
import { resolveMediaType } from '../../src/upload/resolve-media-type';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('resolveMediaType', () => {
  it.each([
    ['image/png', 'image/png', 'image/png'],
    ['IMAGE/PNG; charset=binary', 'image/png', 'image/png'],
    ['image/jpg', 'image/jpeg', 'image/jpeg'],
    ['audio/mp3', 'audio/mpeg', 'audio/mpeg'],
    [undefined, 'video/webm', 'video/webm'],
    ['application/octet-stream', 'video/mp4', 'video/mp4'],
  ])('declared %s with bytes %s is forwarded as %s', (declared, detected, expected) => {
    expect(resolveMediaType(declared, detected)).toBe(expected);
  });

  it.each([
    ['image/png', 'image/jpeg', 'CONTENT_MISMATCH'],
    ['video/mp4', 'video/x-matroska', 'CONTENT_MISMATCH'],
    ['image/png', undefined, 'CONTENT_MISMATCH'],
    ['text/html', 'image/png', 'UNSUPPORTED_MEDIA_TYPE'],
    ['image/gif', 'image/gif', 'UNSUPPORTED_MEDIA_TYPE'],
    [undefined, 'application/x-msdownload', 'UNSUPPORTED_MEDIA_TYPE'],
    ['application/octet-stream', undefined, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('declared %s with bytes %s is refused with %s', (declared, detected, code) => {
    expect(codeOf(() => resolveMediaType(declared, detected))).toBe(code);
  });
});
