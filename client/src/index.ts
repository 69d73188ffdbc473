// The browser client's public surface: upload() and the shapes it takes and gives.
export { upload, DEFAULT_CHUNK_SIZE, DEFAULT_RESUMABLE_ABOVE_BYTES } from './upload';
export type { UploadOptions, UploadProgress } from './upload-options';
export { UploadError, isUploadError } from './upload-error';
export type { UploadErrorCode, ProxyErrorCode, ClientErrorCode } from './upload-error';
export type { AssetRecord } from './multipart-upload';
export { fetchLimits, checkAgainstLimits } from './limits';
export type { Limits } from './limits';
export type { ResumeStore } from './resume-store';
export type { RetryOptions, RetryNotice } from './retry';
export type { paths, components } from './api-types';
