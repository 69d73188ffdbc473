import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import './exit-on-sigterm';

/**
 * The floor for HeyGen v3's direct upload, as people write it: busboy spools the file part to a temp
 * file and hashes it on the way, then create (POST /v3/assets/direct-uploads with size and SHA-256),
 * PUT the temp file to the upload_url with the upload_headers and a Content-Length, complete. No
 * checks, no retries, no logging: anything the project costs beyond this is the price of its own.
 */
const port = Number(process.env.PORT);
const base = process.env.UPSTREAM_BASE ?? '';
const agent = new http.Agent({ keepAlive: true });

interface Answer {
  readonly status: number;
  readonly body: string;
}

function exchange(url: string, method: string, headers: http.OutgoingHttpHeaders, body: string | fs.ReadStream): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    if (typeof body === 'string') request.end(body);
    else body.on('error', reject).pipe(request);
  });
}

async function api(route: string, payload: unknown): Promise<{ data: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': 'bench-key' };
  const answer = await exchange(`${base}${route}`, 'POST', headers, body);
  if (answer.status !== 200) throw new Error(`${route} answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body) as { data: Record<string, unknown> };
}

const server = http.createServer((req, res) => {
  const parser = busboy({ headers: req.headers, limits: { files: 1 } });
  parser.on('file', (_field, file, info) => {
    const spool = path.join(os.tmpdir(), `bench-direct-${randomUUID()}`);
    const relay = async (): Promise<void> => {
      try {
        const hash = createHash('sha256');
        let size = 0;
        file.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        await pipeline(file, fs.createWriteStream(spool));
        const checksum = hash.digest('hex');
        const created = await api('/v3/assets/direct-uploads', { filename: info.filename, content_type: info.mimeType, size_bytes: size, checksum_sha256: checksum });
        const target = created.data as { asset_id: string; upload_url: string; upload_headers?: Record<string, string> };
        const headers = { 'content-type': info.mimeType, 'content-length': size, ...target.upload_headers };
        const put = await exchange(target.upload_url, 'PUT', headers, fs.createReadStream(spool));
        if (put.status !== 200) throw new Error(`storage answered ${put.status}: ${put.body}`);
        const asset = await api(`/v3/assets/${target.asset_id}/complete`, { checksum_sha256: checksum });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(asset));
      } catch (error) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (error as Error).message }));
      } finally {
        await fs.promises.rm(spool, { force: true });
      }
    };
    void relay();
  });
  req.pipe(parser);
});

server.requestTimeout = 0;
server.listen(port, '127.0.0.1');
