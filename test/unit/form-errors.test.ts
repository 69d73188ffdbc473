import http from 'node:http';
import busboy from 'busboy';
import multer, { MulterError } from 'multer';
import { ApiError, ClientGoneError } from '../../src/errors';
import { toUploadError } from '../../src/intake/multipart/form-errors';
import { listen } from '../../src/listen';

/** What busboy itself raises for a form: thrown at once, emitted by the form, or by its file part. */
function busboyErrorFor(contentType: string, body: string): Promise<unknown> {
  return new Promise((resolve) => {
    let parser: ReturnType<typeof busboy>;
    try {
      parser = busboy({ headers: { 'content-type': contentType } });
    } catch (error) {
      resolve(error);
      return;
    }
    parser.on('file', (_name, file) => {
      file.on('error', resolve);
      file.resume();
    });
    parser.on('error', resolve);
    parser.on('close', () => resolve(undefined));
    parser.end(Buffer.from(body));
  });
}

function codeOf(error: Error): string | undefined {
  return error instanceof ApiError ? error.code : undefined;
}

describe('toUploadError with what busboy raises', () => {
  it.each([
    ['a form cut off inside a part header', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"'],
    ['a form cut off inside a field', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'],
    ['a form cut off inside its file', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nbytes'],
    ['a part header that is not a header', 'multipart/form-data; boundary=x', `--x\r\n${'\u0000'.repeat(20)}\r\n\r\nvalue\r\n--x--\r\n`],
    ['a multipart type without a boundary', 'multipart/form-data', ''],
    ['a multipart subtype other than form-data', 'multipart/mixed; boundary=x', ''],
    ['a Content-Type it cannot parse', 'multipart/', ''],
  ])('%s is MALFORMED_MULTIPART', async (_case, contentType, body) => {
    const raised = await busboyErrorFor(contentType, body);
    expect(raised).toBeInstanceOf(Error);
    const answer = toUploadError(raised);
    expect(codeOf(answer)).toBe('MALFORMED_MULTIPART');
    expect(answer.cause).toBe(raised);
  });
});

describe('toUploadError with what busboy raises when torn down', () => {
  it('a file part left open when the form is destroyed is MALFORMED_MULTIPART', async () => {
    const raised = await new Promise<unknown>((resolve) => {
      const parser = busboy({ headers: { 'content-type': 'multipart/form-data; boundary=x' } });
      parser.on('file', (_name, file) => {
        file.on('error', resolve);
        file.resume();
        parser.destroy();
      });
      parser.on('error', () => undefined);
      parser.write(Buffer.from('--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nbytes'));
    });
    expect((raised as Error).message).toBe('Unexpected end of file');
    expect(codeOf(toUploadError(raised))).toBe('MALFORMED_MULTIPART');
  });
});

describe('toUploadError with what multer raises', () => {
  it.each([
    ['LIMIT_FILE_COUNT', 'TOO_MANY_FILES'],
    ['LIMIT_UNEXPECTED_FILE', 'UNEXPECTED_FILE_FIELD'],
    ['LIMIT_FILE_SIZE', 'FILE_TOO_LARGE'],
    ['LIMIT_PART_COUNT', 'TOO_MANY_FIELDS'],
    ['LIMIT_FIELD_COUNT', 'TOO_MANY_FIELDS'],
    ['LIMIT_FIELD_KEY', 'FIELD_TOO_LARGE'],
    ['LIMIT_FIELD_VALUE', 'FIELD_TOO_LARGE'],
    ['MISSING_FIELD_NAME', 'MALFORMED_MULTIPART'],
  ] as const)('MulterError %s is %s', (code, catalogueCode) => {
    expect(codeOf(toUploadError(new MulterError(code)))).toBe(catalogueCode);
  });

  it('a client that goes away mid-body is ClientGoneError', async () => {
    const errors: unknown[] = [];
    const single = multer({ storage: multer.memoryStorage() }).single('file');
    const server = http.createServer((req, res) => {
      void single(req as never, res as never, (error: unknown) => {
        errors.push(error);
        res.end();
      });
    });
    const { port, host } = await listen(server, 0, '127.0.0.1');
    try {
      const request = http.request({ host, port, method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '100000' } });
      request.on('error', () => undefined);
      request.write('--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nsome bytes');
      await new Promise((resolve) => setTimeout(resolve, 50));
      request.destroy();
      await new Promise<void>((resolve) => {
        const check = (): void => (errors.length > 0 ? resolve() : void setTimeout(check, 10));
        check();
      });
      expect(toUploadError(errors[0])).toBeInstanceOf(ClientGoneError);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('toUploadError with what neither library raised', () => {
  it('passes a catalogue error through as it is', () => {
    const error = new ApiError('CONTENT_MISMATCH');
    expect(toUploadError(error)).toBe(error);
  });

  it('passes any other error through unchanged, whatever its words (a server fault, not a malformed form)', () => {
    for (const error of [new Error('ENOSPC: no space left on device, write'), new Error('the spool file is malformed'), new RangeError('Unexpected end of form')]) {
      expect(toUploadError(error)).toBe(error);
    }
  });
});
