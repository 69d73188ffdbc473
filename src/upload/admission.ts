import { type MediaKind, MIB } from '../config';
import { ApiError } from '../errors';
import { largestFileBytes, type MediaLimits } from './media-types';
import { isAllowedMediaType, kindOf, normaliseDeclaredType } from './media-types';

/** "32 MiB" for whole mebibytes, else the exact byte count. */
export function describeBytes(bytes: number): string {
  const mib = bytes / MIB;
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

/** The refusal's words for a file over its kind's limit. */
function tooLargeMessage(kind: MediaKind, maxBytes: number): string {
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)} files may be at most ${describeBytes(maxBytes)}.`;
}

/** What a client says of a file before any of its bytes arrive. */
export interface DeclaredUpload {
  /** The type the client declared (a part's Content-Type, tus metadata), if any. */
  readonly declaredType: string | undefined;
  /** The file's length, when the client states it exactly (tus Upload-Length). */
  readonly length: number | undefined;
}

/**
 * Admission before any byte: a declared type must be one of the five, and a declared length must be
 * within that type's limit (within the largest limit when the type is generic or missing: the first
 * bytes decide then). The same rule for every intake, so a file refused on one route is refused on all.
 */
export function admitDeclared(declared: DeclaredUpload, maxBytes: MediaLimits): void {
  const type = normaliseDeclaredType(declared.declaredType);
  if (type !== undefined && !isAllowedMediaType(type)) {
    throw unsupportedMediaType(type);
  }
  if (declared.length === undefined) return;
  if (declared.length === 0) throw new ApiError('EMPTY_FILE');
  if (type === undefined) {
    if (declared.length > largestFileBytes(maxBytes)) throw fileTooLarge(maxBytes);
    return;
  }
  const kind = kindOf(type);
  if (declared.length > maxBytes[kind]) throw fileTooLarge(maxBytes, kind);
}

/** The refusal of a type that is not one of the five, in the one wording every intake uses. */
export function unsupportedMediaType(type: string): ApiError {
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', `Files of type ${type} are not accepted; send PNG, JPEG, MP4, WebM or MP3.`);
}

/** The refusal of a file over its kind's limit, or over the largest limit while its kind is not known yet. */
export function fileTooLarge(maxBytes: MediaLimits, kind?: MediaKind): ApiError {
  if (kind === undefined) return new ApiError('FILE_TOO_LARGE', `Files may be at most ${describeBytes(largestFileBytes(maxBytes))}.`);
  return new ApiError('FILE_TOO_LARGE', tooLargeMessage(kind, maxBytes[kind]));
}
