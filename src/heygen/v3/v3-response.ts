import { z } from 'zod';
import { isSafeAssetUrl, URL_SAFE_ID } from '../asset-record';

const assetId = z.string().regex(URL_SAFE_ID);
const safeUrl = z.string().refine(isSafeAssetUrl, 'url must be an absolute https URL');

/** `POST /v3/assets` and `POST /v3/assets/{id}/complete`: the asset HeyGen made (other fields are dropped). */
export const v3AssetSchema = z.object({
  data: z.object({ asset_id: assetId, url: safeUrl }),
});

/** `POST /v3/assets/direct-uploads`: where to PUT the bytes, and what the PUT must carry. */
export const v3DirectUploadSchema = z.object({
  data: z.object({
    asset_id: assetId,
    upload_url: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'upload_url must be an http(s) URL'),
    upload_headers: z.record(z.string(), z.string()).nullish(),
    max_bytes: z.number().int().positive().nullish(),
  }),
});

/** Every v3 error: `{"error": {"code": "snake_case", "message": ...}}` (a gateway's may have no envelope). */
export const v3ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string().nullish(), param: z.string().nullish() }),
});
