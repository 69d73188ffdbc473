import { randomBytes } from 'node:crypto';

export interface FilePart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer | string;
}

/** Builds a multipart/form-data body by hand, so tests control every byte (including broken ones). */
export function multipartBody(parts: readonly FilePart[], boundary = `----test${randomBytes(8).toString('hex')}`) {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let headers = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) headers += `; filename="${part.filename}"`;
    headers += '\r\n';
    if (part.contentType !== undefined) headers += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${headers}\r\n`), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}`, boundary };
}

/** The multipart framing around a single file, for tests that stream the file's bytes themselves. */
export function singleFileFraming(filename: string, contentType: string, boundary = `----test${randomBytes(8).toString('hex')}`) {
  return {
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
