import http from 'node:http';
import { heygenSuccessBody } from './heygen-reply';

/**
 * The discard-sink upstream: counts the bytes of each POST, checks them against Content-Length when
 * one was sent, and answers with HeyGen's success envelope. It keeps nothing, so every contender's
 * upstream costs the same and the sink never becomes what is measured.
 */
const port = Number(process.env.PORT);
let served = 0;

const server = http.createServer((req, res) => {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on('end', () => {
    const declared = req.headers['content-length'];
    if (req.method !== 'POST' || (declared !== undefined && Number(declared) !== received)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 400, message: `sink got ${received} bytes, expected ${declared ?? '?'}` }));
      return;
    }
    served += 1;
    // A counter rather than random bytes: unique enough, and costs the sink nothing per request.
    const id = served.toString(16).padStart(32, '0');
    const body = heygenSuccessBody(id, req.headers['content-type'] ?? 'application/octet-stream');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

// Large uploads through slow contenders must not be cut by Node's default request timeout.
server.requestTimeout = 0;
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
