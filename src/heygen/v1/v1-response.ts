import { z } from 'zod';
import type { AssetRecord } from '../asset-record';

/** HeyGen's success code in the v1 response envelope. */
export const HEYGEN_SUCCESS_CODE = 100;

/** The part of HeyGen's envelope the proxy relies on; other fields are allowed and dropped. */
export const heygenUploadResponseSchema = z.object({
  code: z.number(),
  data: z
    .object({
      id: z.string().min(1),
      file_type: z.enum(['image', 'video', 'audio']),
      url: z.string(),
      image_key: z.string().nullish(),
      created_ts: z.number(),
    })
    .nullish(),
  message: z.string().nullish(),
  msg: z.string().nullish(),
});

export type HeygenUploadResponse = z.infer<typeof heygenUploadResponseSchema>;

/** HeyGen's `data`, trimmed to the fields a client needs. */
export function toAssetRecord(data: NonNullable<HeygenUploadResponse['data']>): AssetRecord {
  return {
    id: data.id,
    file_type: data.file_type,
    url: data.url,
    image_key: data.image_key ?? null,
    created_ts: data.created_ts,
  };
}
