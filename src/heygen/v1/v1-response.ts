import { z } from 'zod';
import { isSafeAssetUrl, URL_SAFE_ID, type UpstreamAsset } from '../asset-record';

/** HeyGen's success code in the v1 response envelope. */
export const HEYGEN_SUCCESS_CODE = 100;

/**
 * v1 codes that refuse the file itself (HeyGen's error reference): 40010 video format not supported,
 * 400652 video file corrupted, 40044 invalid audio format. Resending the same file will not help.
 */
export const V1_FILE_REFUSAL_CODES: ReadonlySet<number> = new Set([40010, 400652, 40044]);

/** v1 codes that refuse the server's key: 40009 invalid credentials, 400112 unauthorized. */
export const V1_KEY_REFUSAL_CODES: ReadonlySet<number> = new Set([40009, 400112]);

/** The envelope around every v1 answer, success or not; other fields are allowed and dropped. */
export const v1EnvelopeSchema = z.object({
  code: z.number(),
  data: z.unknown().optional(),
  message: z.string().nullish(),
  msg: z.string().nullish(),
});

/**
 * A success's `data`, checked before anything of it reaches a browser: an id that is safe in URLs
 * and logs, and an https URL (never javascript:, data: or a relative path).
 */
export const v1AssetSchema = z.object({
  id: z.string().regex(URL_SAFE_ID),
  file_type: z.enum(['image', 'video', 'audio']),
  url: z.string().refine(isSafeAssetUrl, 'url must be an absolute https URL'),
  image_key: z.string().max(512).nullish(),
  created_ts: z.number().int().nonnegative(),
});

/** HeyGen's `data`, trimmed to the fields a client needs. */
export function toUpstreamAsset(data: z.infer<typeof v1AssetSchema>): UpstreamAsset {
  return {
    id: data.id,
    file_type: data.file_type,
    url: data.url,
    image_key: data.image_key ?? null,
    created_ts: data.created_ts,
  };
}
