import type { ChangeEvent } from 'react';
import { useUpload } from './use-upload';

export interface UploadFieldProps {
  /** The proxy's base URL. */
  readonly baseUrl: string;
  /** An upload token, when the proxy requires one (UPLOAD_TOKEN_SECRET). */
  readonly token?: string;
}

/** A file input that uploads what is picked, with progress, the outcome and a Cancel button. */
export function UploadField({ baseUrl, token }: UploadFieldProps) {
  const { state, start, cancel } = useUpload({ baseUrl, ...(token === undefined ? {} : { token }) });
  const onChange = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    if (file) start(file);
  };
  return (
    <div>
      <input type="file" aria-label="File to upload" onChange={onChange} disabled={state.phase === 'uploading'} />
      <progress max={1} value={state.progress} />
      {state.phase === 'uploading' && (
        <button type="button" onClick={cancel}>
          Cancel
        </button>
      )}
      <p role="status" data-phase={state.phase} data-code={state.error?.code ?? ''}>
        {state.phase === 'done' && state.record ? `Uploaded: ${state.record.id}` : null}
        {state.phase === 'error' && state.error ? `${state.error.message}${state.error.requestId ? ` (request ${state.error.requestId})` : ''}` : null}
      </p>
    </div>
  );
}
