import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import './exit-on-sigterm';

/**
 * The floor for buffering: busboy spools the file part to a temp file, then it is sent upstream with
 * a Content-Length, the way the project's buffered mode must (nginx-style request buffering).
 */
const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM_URL ?? '');
const agent = new http.Agent({ keepAlive: true });

function send(file: string, size: number, contentType: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const forward = http.request(
      upstream,
      { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': size, 'x-api-key': 'bench-key' } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    forward.on('error', reject);
    fs.createReadStream(file).on('error', reject).pipe(forward);
  });
}

const server = http.createServer((req, res) => {
  const parser = busboy({ headers: req.headers, limits: { files: 1 } });
  parser.on('file', (_field, file, info) => {
    const spool = path.join(os.tmpdir(), `bench-spool-${randomUUID()}`);
    const relay = async (): Promise<void> => {
      try {
        await pipeline(file, fs.createWriteStream(spool));
        const { size } = await fs.promises.stat(spool);
        const answer = await send(spool, size, info.mimeType);
        res.writeHead(answer.status === 200 ? 201 : 502, { 'content-type': 'application/json' });
        res.end(answer.body);
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
