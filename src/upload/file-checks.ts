import { ApiError } from '../errors';
import { fileTooLarge } from './admission';
import { ByteBudget } from './byte-budget';
import type { ChunkInspector } from './chunk-inspector';
import type { MediaLimits } from './media-types';
import { type AllowedMediaType, kindOf } from './media-types';
import { structureWalkerFor } from './structure';
import { StructureCheck } from './structure-check';

/** What every file is checked against as it passes, whatever its intake or mode, and what that measures. */
export interface FileChecks {
  /** Its type's size limit; once the file has ended, `budget.bytes` is its exact size. */
  readonly budget: ByteBudget;
  /** The budget, then the structure walk, in the order each chunk meets them. */
  readonly inspectors: readonly ChunkInspector[];
}

/** The checks for a file whose first bytes showed `mediaType`: that type's size limit, and that type's structure. */
export function fileChecksFor(mediaType: AllowedMediaType, maxBytes: MediaLimits): FileChecks {
  const kind = kindOf(mediaType);
  const budget = new ByteBudget(maxBytes[kind], () => fileTooLarge(maxBytes, kind));
  const structure = new StructureCheck(
    structureWalkerFor(mediaType),
    (reason) => new ApiError('CONTENT_MISMATCH', `The file is not a well-formed ${mediaType} file.`, { cause: new Error(reason) }),
  );
  return { budget, inspectors: [budget, structure] };
}
