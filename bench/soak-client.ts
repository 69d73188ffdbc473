import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { multipartFrame } from './client';
import type { Fixture } from './fixtures';

/** An HTTP status, or the name of what went wrong when there was none (counted as unexpected). */
export type Outcome = number | string;

// No keep-alive: each upload is a fresh connection, as a browser's large upload usually is, and the
// proxy's descriptor count then reflects uploads in progress, not idle pooled sockets of ours.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/**
 * Streams one multipart upload with an exact Content-Length and resolves with its status. Never
 * rejects: a socket error or the whole-request timeout becomes an outcome string, so one bad request
 * is counted rather than ending the run.
 */
export function timedUpload(port: number, fixture: Fixture, timeoutMs: number): Promise<Outcome> {
  const frame = multipartFrame(fixture);
  const length = fixture.size + frame.preamble.length + frame.epilogue.length;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/asset',
        method: 'POST',
        agent,
        headers: { 'content-type': frame.contentType, 'content-length': length },
      },
      (response) => {
        // The body is drained, not kept: only the status is judged, and 200 concurrent bodies add up.
        response.resume();
        response.on('end', () => finish(response.statusCode ?? 0));
        response.on('error', (error: NodeJS.ErrnoException) => finish(`response ${error.code ?? error.message}`));
      },
    );
    // The whole request, not only inactivity, is bounded: a slow trickle must not outlive the run.
    const timer = setTimeout(() => {
      finish(`timeout ${timeoutMs} ms`);
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish(`error ${error.code ?? error.message}`));
    request.write(frame.preamble);
    const file = fs.createReadStream(fixture.path, { highWaterMark: 64 * 1024 });
    file.on('error', (error) => {
      finish(`read ${error.message}`);
      request.destroy();
    });
    file.pipe(request, { end: false });
    file.on('end', () => request.end(frame.epilogue));
  });
}

/**
 * Announces `totalBytes` of file, sends `body` (the start of a real file, so sniffing passes and the
 * bytes really reach the spool), then destroys the socket: a browser tab
 * closed mid-upload. Resolves once the bytes were handed to the kernel and the socket is gone. The
 * raw socket (not http.request) keeps the client from doing anything clever on destroy. Resolves
 * true if the proxy answered before the cut (it refused the upload early, so nothing was aborted).
 */
export function abortedUpload(port: number, fixture: Fixture, body: Buffer, totalBytes: number, timeoutMs: number): Promise<boolean> {
  const frame = multipartFrame({ ...fixture, size: totalBytes });
  const length = totalBytes + frame.preamble.length + frame.epilogue.length;
  const head = Buffer.from(
    `POST /v1/asset HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${frame.contentType}\r\n` +
      `Content-Length: ${length}\r\nConnection: close\r\n\r\n`,
  );
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answered = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    socket.on('data', () => {
      answered = true;
    });
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      socket.write(Buffer.concat([head, frame.preamble]));
      socket.write(body, () => done());
    });
  });
}
