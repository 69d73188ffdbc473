import type { RequestHandler } from 'express';
import { cutOffClient } from './cut-off-client';

/**
 * A minimum body rate, like Apache's mod_reqtimeout MinRate: an upload whose client sends fewer than
 * `minBytesPerSecond` averaged over each `windowMs` is answered 408 CLIENT_TOO_SLOW and cut off,
 * freeing its slot, spool and upstream request. The idle timeout alone does not stop a client that
 * sends one byte every 20 s: it holds its slot for REQUEST_TIMEOUT_MS, and a few dozen such clients
 * hold every slot.
 *
 * The cost is one interval per upload, not a timer or a listener per chunk: each tick reads how far
 * the socket's byte count has moved since the last. A window in which this side held the body back
 * (the request paused by backpressure from the spool or from HeyGen, or not yet being read) is not
 * held against the client.
 */
export function clientMinRate(minBytesPerSecond: number, windowMs: number): RequestHandler {
  if (minBytesPerSecond === 0) return (_req, _res, next) => next();
  const minBytesPerWindow = Math.ceil((minBytesPerSecond * windowMs) / 1000);
  return (req, res, next) => {
    const { socket } = req;
    let mark = socket.bytesRead;
    let heldBack = false;
    const onPause = (): void => {
      heldBack = true;
    };
    const tick = (): void => {
      const received = socket.bytesRead - mark;
      mark = socket.bytesRead;
      const held = heldBack || req.readableFlowing !== true || req.isPaused();
      heldBack = false;
      if (held || received >= minBytesPerWindow) return;
      stop();
      cutOffClient(req, res, 'CLIENT_TOO_SLOW', `${received} body bytes in ${windowMs} ms, under the minimum of ${minBytesPerWindow}`);
    };
    const timer = setInterval(tick, windowMs);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      req.off('pause', onPause);
    };
    req.on('pause', onPause);
    req.once('end', stop);
    res.once('close', stop);
    next();
  };
}
