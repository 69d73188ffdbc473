import http, { type IncomingHttpHeaders } from 'node:http';
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
  const req = http.request(url, { method: 'POST', headers });
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
