import { ApiError } from '../errors';
import { unsupportedMediaType } from './admission';
import { type AllowedMediaType, isAllowedMediaType, normaliseDeclaredType } from './media-types';

/**
 * Decides the type to forward from what the client declared and what the bytes show.
 * - A declared type outside the allowed five is refused whatever the bytes are.
 * - A declared allowed type must be what the bytes show (a JPEG declared as PNG is refused).
 * - A generic or missing declaration takes the detected type when that type is allowed.
 */
export function resolveMediaType(declared: string | undefined, detected: string | undefined): AllowedMediaType {
  const declaredType = normaliseDeclaredType(declared);
  if (declaredType !== undefined && !isAllowedMediaType(declaredType)) {
    throw unsupportedMediaType(declaredType);
  }
  if (detected === undefined || !isAllowedMediaType(detected)) {
    throw declaredType === undefined
      ? new ApiError('UNSUPPORTED_MEDIA_TYPE')
      : new ApiError('CONTENT_MISMATCH', `The file's content is not ${declaredType}.`);
  }
  if (declaredType !== undefined && declaredType !== detected) {
    throw new ApiError('CONTENT_MISMATCH', `The file was declared as ${declaredType} but its content is ${detected}.`);
  }
  return detected;
}
