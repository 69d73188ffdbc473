import http from 'node:http';
import busboy from 'busboy';
import './exit-on-sigterm';

/**
 * The floor for streaming: busboy parses the multipart body and its file part is piped straight into
 * a chunked upstream request. No checks, no logging: anything the project costs beyond this is the
 * price of its middleware.
 */
const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM_URL ?? '');
const agent = new http.Agent({ keepAlive: true });

function reply(res: http.ServerResponse, status: number, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const parser = busboy({ headers: req.headers, limits: { files: 1 } });
  parser.on('file', (_field, file, info) => {
    const forward = http.request(
      upstream,
      { method: 'POST', agent, headers: { 'content-type': info.mimeType, 'x-api-key': 'bench-key' } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => reply(res, answer.statusCode === 200 ? 201 : 502, Buffer.concat(chunks).toString()));
      },
    );
    forward.on('error', (error) => reply(res, 502, JSON.stringify({ error: error.message })));
    file.pipe(forward);
  });
  parser.on('error', (error: Error) => reply(res, 400, JSON.stringify({ error: error.message })));
  req.pipe(parser);
});

server.requestTimeout = 0;
server.listen(port, '127.0.0.1');
