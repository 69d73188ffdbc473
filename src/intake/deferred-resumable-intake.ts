import type { RequestHandler } from 'express';
import { contextOf } from '../request-context';
import type { ResumableIntake } from './resumable/resumable-intake';

/**
 * The tus intake, built on first use instead of at start. @tus/server, its store and the fetch-style
 * Request/Response they bring (srvx, Node's undici) are about a sixth of an idle replica's memory
 * (bench/idle-footprint.md), and many deployments never receive a resumable upload.
 *
 * `load` builds the real intake (its module is required there, so neither it nor its store's package
 * is loaded before); `hasStoredUploads` says whether the store already holds anything at start (a
 * restart): then the intake is built at once, so those uploads count against the disk budget and
 * expire on time as before. An empty store has nothing to count or expire until a request arrives,
 * and that request builds the intake (and starts its cleanup) before tus sees it.
 */
export function deferredResumableIntake(load: () => ResumableIntake, hasStoredUploads: () => Promise<boolean>): ResumableIntake {
  let ready: ResumableIntake | undefined;
  let loading: Promise<ResumableIntake> | undefined;
  let cleanupIntervalMs: number | undefined;
  let closed = false;

  const intake = (): Promise<ResumableIntake> => {
    loading ??= (async () => {
      const real = load();
      // A store adopted before the first request counts what it holds, then cleans up on its timer.
      if (cleanupIntervalMs !== undefined) await real.start(cleanupIntervalMs);
      if (closed) real.close();
      ready = real;
      return real;
    })().catch((error: unknown) => {
      // A failed build (a store that cannot be opened) is the request's error; the next one tries again.
      loading = undefined;
      throw error;
    });
    return loading;
  };

  const handle: RequestHandler = (req, res, next) => {
    if (ready !== undefined) {
      ready.handle(req, res, next);
      return;
    }
    // The edge frees the client's slot when this settles (when-upload-ends.ts); the real intake
    // replaces it with its own once it takes the request, and until then this one waits for it.
    const handled = intake().then((real) => {
      real.handle(req, res, next);
      return contextOf(res).uploadSettled;
    });
    contextOf(res).uploadSettled = handled.then(
      () => undefined,
      () => undefined,
    );
    handled.catch(next);
  };

  return {
    handle,
    status: async (id, tokenSubject) => (await intake()).status(id, tokenSubject),
    cleanup: async () => (await intake()).cleanup(),
    async start(intervalMs) {
      cleanupIntervalMs = intervalMs;
      if (await hasStoredUploads()) await intake();
    },
    close() {
      closed = true;
      ready?.close();
    },
  };
}
