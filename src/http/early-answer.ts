import type { Request, Response } from 'express';
import { MIB } from '../config';

/** After an early answer, how much of the unread body is read and dropped, and for how long. */
export const EARLY_ANSWER_DRAIN_BYTES = 16 * MIB;
export const EARLY_ANSWER_DRAIN_MS = 5_000;

/**
 * After answering before the body was read (413, 415, 403, 429, 503 ...), keep reading and dropping
 * what the client still sends, for a bounded amount, then close. Closing at once would reset a
 * connection the client is still writing to, and browsers then report a bare network error instead
 * of the answer (nginx's lingering close does the same).
 */
export function drainAfterEarlyAnswer(req: Request, res: Response): void {
  if (req.complete || req.destroyed) return;
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    let drained = 0;
    const stop = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      // The request, not only its socket: after the response has finished Node would not tell the
      // request that its socket closed, and whatever still reads it would wait forever.
      req.destroy();
    };
    const onData = (chunk: Buffer): void => {
      drained += chunk.length;
      if (drained > EARLY_ANSWER_DRAIN_BYTES) stop();
    };
    const timer = setTimeout(stop, EARLY_ANSWER_DRAIN_MS);
    timer.unref();
    req.on('data', onData);
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  });
}
