import { useCallback, useEffect, useRef, useState } from 'react';
import { type AssetRecord, isUploadError, upload, UploadError, type UploadOptions } from '../../client/src/index';

export type UploadPhase = 'idle' | 'uploading' | 'done' | 'error';

export interface UploadState {
  readonly phase: UploadPhase;
  /** 0 to 1, of the file's bytes sent. */
  readonly progress: number;
  readonly record: AssetRecord | null;
  readonly error: UploadError | null;
}

const IDLE: UploadState = { phase: 'idle', progress: 0, record: null, error: null };

/**
 * The client's upload() as React state: one upload at a time, cancelled by `cancel()` or when the
 * component unmounts (its AbortSignal), so no state is set on an unmounted component.
 */
export function useUpload(options: Omit<UploadOptions, 'signal' | 'onProgress'>): {
  state: UploadState;
  start: (file: File) => void;
  cancel: () => void;
} {
  const [state, setState] = useState<UploadState>(IDLE);
  const running = useRef<AbortController | null>(null);
  // The latest options without restarting anything when the caller passes a new object each render.
  const latest = useRef(options);
  latest.current = options;

  const cancel = useCallback(() => running.current?.abort(), []);

  const start = useCallback((file: File) => {
    running.current?.abort();
    const controller = new AbortController();
    running.current = controller;
    setState({ ...IDLE, phase: 'uploading' });
    upload(file, {
      ...latest.current,
      signal: controller.signal,
      onProgress: ({ loaded, total }) => {
        if (running.current === controller) setState((now) => ({ ...now, progress: total > 0 ? loaded / total : 0 }));
      },
    }).then(
      (record) => {
        if (running.current === controller) setState({ phase: 'done', progress: 1, record, error: null });
      },
      (error: unknown) => {
        if (running.current !== controller) return;
        setState({ phase: 'error', progress: 0, record: null, error: isUploadError(error) ? error : new UploadError('UNEXPECTED_RESPONSE', String(error), 0) });
      },
    );
  }, []);

  useEffect(() => () => running.current?.abort(), []);

  return { state, start, cancel };
}
