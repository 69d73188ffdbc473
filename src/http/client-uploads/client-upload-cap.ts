import type { RequestHandler } from 'express';
import { ApiError } from '../../errors';
import { clientKeyOf } from '../client-key';
import { whenUploadEnds } from '../when-upload-ends';
import type { UploadLease, UploadLeaseStore } from './upload-lease-store';

/** Seconds a client at its cap of uploads in progress should wait: one of its own uploads must finish first. */
export const CLIENT_UPLOADS_RETRY_AFTER_SECONDS = 5;

/**
 * Caps each client's uploads in progress at MAX_UPLOADS_PER_CLIENT (the client as the rate limit
 * knows it, clientKeyOf). Without it one client could hold every one of a replica's
 * MAX_CONCURRENT_UPLOADS slots with slow bodies, and everyone else would get 503. Past the cap the
 * request gets 429 TOO_MANY_UPLOADS_IN_PROGRESS with Retry-After, before its body is read; its lease
 * is given back when its response closes, answered or aborted.
 */
export function clientUploadCap(maxPerClient: number, leases: UploadLeaseStore): RequestHandler {
  return async (req, res, next) => {
    let lease: UploadLease | undefined;
    let closed = false;
    // Listened for before the store is asked, so a client gone while it answers still gives the slot
    // back; an upload that outlives its client keeps the lease until its work is over.
    whenUploadEnds(res, () => {
      closed = true;
      lease?.release();
    });
    try {
      lease = await leases.acquire(clientKeyOf(req, res), maxPerClient);
    } catch (error) {
      next(error);
      return;
    }
    if (closed) {
      lease?.release();
      return;
    }
    if (lease === undefined) {
      next(
        new ApiError('TOO_MANY_UPLOADS_IN_PROGRESS', undefined, {
          headers: { 'Retry-After': String(CLIENT_UPLOADS_RETRY_AFTER_SECONDS) },
        }),
      );
      return;
    }
    next();
  };
}
