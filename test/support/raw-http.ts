import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { singleFileFraming } from './multipart';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
}

/** Reads a whole response. */
export function readResponse(res: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('error', reject);
    res.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
    });
  });
}

/** A POST with a body sent in one piece; the request's Content-Length is the body's unless given. */
export function post(url: string, body: Buffer, headers: http.OutgoingHttpHeaders): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Length': body.length, ...headers } }, (res) => {
      readResponse(res).then(resolve, reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Opens a POST and hands back the request, to send the body piece by piece or abort midway. */
export function openPost(url: string, headers: http.OutgoingHttpHeaders) {
  return openRequest(url, { method: 'POST', headers });
}

/** Opens any request and hands it back unfinished, to send the body in pieces or abort it. */
export function openRequest(url: string, options: http.RequestOptions) {
  const req = http.request(url, options);
  const response = new Promise<RawResponse>((resolve, reject) => {
    req.once('response', (res) => {
      readResponse(res).then(resolve, reject);
    });
    req.once('error', reject);
  });
  // A test that aborts on purpose need not handle the resulting rejection.
  response.catch(() => undefined);
  return { req, response };
}

/**
 * Opens a single-file upload that declares `declaredBytes` of file and sends only `firstBytes` of it,
 * leaving the request open: for stalls, aborts and early answers.
 */
export function startPartialUpload(
  url: string,
  file: { filename: string; contentType: string; declaredBytes: number; firstBytes: Buffer },
  framing = singleFileFraming(file.filename, file.contentType),
) {
  const upload = openPost(url, {
    'Content-Type': framing.contentType,
    'Content-Length': String(framing.head.length + file.declaredBytes + framing.tail.length),
  });
  upload.req.write(framing.head);
  upload.req.write(file.firstBytes);
  return { ...upload, framing };
}

export interface RawSocketAnswer {
  /** Everything the server sent before it closed the connection. */
  readonly raw: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** From the first byte written to the connection's close. */
  readonly elapsedMs: number;
}

/**
 * Writes `data` to a fresh connection as it is, byte for byte (malformed requests, half a header
 * block), and resolves with what the server sends before closing; fails after `timeoutMs`.
 */
export function rawExchange(url: string, data: string | Buffer, timeoutMs = 10_000): Promise<RawSocketAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let started = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; it sent: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`));
    }, timeoutMs);
    socket.once('connect', () => {
      started = performance.now();
      socket.write(data);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may reset a connection it has answered while bytes were still unread: what arrived counts.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ ...parseRawResponse(raw), raw, elapsedMs: performance.now() - started });
    });
  });
}

/** The first response in `raw`: status, headers (lower-cased names) and body. */
export function parseRawResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: split === -1 ? '' : raw.slice(split + 4) };
}
