import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from '../listen';

/**
 * A stand-in for HeyGen's Upload Asset endpoint (POST /v1/asset, raw body, X-API-KEY), for `npm run dev`
 * and the integration tests. It checks the key and the type list as HeyGen does, answers in HeyGen's
 * envelope, hashes what it receives without keeping it, and can be told to misbehave.
 */
export const STAND_IN_MEDIA_TYPES: Readonly<Record<string, 'image' | 'video' | 'audio'>> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'video/mp4': 'video',
  'video/webm': 'video',
  'audio/mpeg': 'audio',
};

export type StandInFault =
  | 'none'
  /** Destroy the connection as soon as the request arrives, before any response byte. */
  | 'drop-connection'
  /** Reset the connection after the first body bytes. */
  | 'reset-mid-body'
  /** Read the whole body, then never answer. */
  | 'hang'
  /** Stop reading the body at all (backpressure all the way back). */
  | 'stall-reading'
  /** Answer 200 but send the body one byte at a time, slowly, forever. */
  | 'trickle-response'
  | 'status-500'
  | 'non-json'
  | 'code-error'
  | 'huge-body'
  | 'redirect'
  /** Answer 401 echoing the key it was given, verbatim (as careless upstreams do). */
  | 'unauthorized'
  /** The same, echoing the key base64-encoded, upper-cased or percent-encoded. */
  | 'unauthorized-base64'
  | 'unauthorized-upper-case'
  | 'unauthorized-percent-encoded'
  /** A success whose record a browser must never be handed: a javascript: URL and an id with markup. */
  | 'unsafe-record'
  /** 429 with Retry-After: 7, as HeyGen's rate limit answers. */
  | 'rate-limited'
  /** 402: the account is out of credit. */
  | 'insufficient-credit'
  /** 400 code 40010 "video format not supported": HeyGen refuses the file itself. */
  | 'rejected-file';

/** How each echoing fault writes the key it was sent. */
const KEY_ECHOES: Readonly<Record<string, (key: string) => string>> = {
  unauthorized: (key) => key,
  'unauthorized-base64': (key) => Buffer.from(key).toString('base64'),
  'unauthorized-upper-case': (key) => key.toUpperCase(),
  'unauthorized-percent-encoded': (key) => [...Buffer.from(key)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
};

export interface ReceivedUpload {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly keyAccepted: boolean;
  /** Names of the headers that arrived, lower-cased (to check nothing of the client's leaks through). */
  readonly headerNames: readonly string[];
  readonly bytes: number;
  readonly sha256: string;
  /** The body arrived in full (false when the sender aborted it). */
  readonly complete: boolean;
  readonly status: number | undefined;
}

export interface StandInHeygen {
  readonly url: string;
  readonly port: number;
  /** Every upload request seen, in arrival order, once it has ended one way or the other. */
  readonly received: ReceivedUpload[];
  /** Emits 'request' (IncomingMessage) when one arrives and 'received' (ReceivedUpload) when it ends. */
  readonly events: EventEmitter;
  /** Open connections right now (to check that the proxy leaves none behind). */
  openConnections(): number;
  /** Misbehave from now on; with `times`, only for that many requests, then behave again. */
  setFault(fault: StandInFault, times?: number): void;
  close(): Promise<void>;
}

export interface StandInOptions {
  readonly apiKey: string;
  readonly port?: number;
  readonly host?: string;
}

const TRICKLE_INTERVAL_MS = 200;

export async function startStandInHeygen(options: StandInOptions): Promise<StandInHeygen> {
  const expectedKey = Buffer.from(options.apiKey);
  const received: ReceivedUpload[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let fault: StandInFault = 'none';
  let faultUsesLeft = Infinity;

  const nextFault = (): StandInFault => {
    if (fault === 'none') return 'none';
    const current = fault;
    faultUsesLeft -= 1;
    if (faultUsesLeft <= 0) fault = 'none';
    return current;
  };

  const keyAccepted = (req: IncomingMessage): boolean => {
    const given = Buffer.from(String(req.headers['x-api-key'] ?? ''));
    return given.length === expectedKey.length && timingSafeEqual(given, expectedKey);
  };

  const server = http.createServer((req, res) => {
    events.emit('request', req);
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/asset') {
      if (req.url?.startsWith('/redirected')) events.emit('redirect-followed', req);
      sendJson(res, 404, { code: 404, data: null, msg: null, message: 'Not found' });
      req.resume();
      return;
    }
    handleUpload(req, res, nextFault());
  });

  function handleUpload(req: IncomingMessage, res: ServerResponse, active: StandInFault): void {
    const hash = createHash('sha256');
    let bytes = 0;
    let status: number | undefined;
    const record = (complete: boolean): void => {
      const upload: ReceivedUpload = {
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        contentLength: req.headers['content-length'],
        transferEncoding: req.headers['transfer-encoding'],
        keyAccepted: keyAccepted(req),
        headerNames: Object.keys(req.headers),
        bytes,
        sha256: hash.digest('hex'),
        complete,
        status,
      };
      received.push(upload);
      events.emit('received', upload);
    };
    let recorded = false;
    const recordOnce = (complete: boolean): void => {
      if (recorded) return;
      recorded = true;
      record(complete);
    };

    if (active === 'drop-connection') {
      req.socket.destroy();
      recordOnce(false);
      return;
    }
    if (active === 'stall-reading') {
      req.pause();
      req.once('close', () => recordOnce(false));
      return;
    }

    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      if (active === 'reset-mid-body') req.socket.resetAndDestroy();
    });
    req.once('close', () => recordOnce(req.complete));
    req.once('end', () => {
      status = answer(req, res, active, bytes);
      recordOnce(true);
    });
  }

  function answer(req: IncomingMessage, res: ServerResponse, active: StandInFault, bytes: number): number | undefined {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const kind = STAND_IN_MEDIA_TYPES[contentType];
    switch (active) {
      case 'hang':
        return undefined;
      case 'status-500':
        return sendJson(res, 500, { code: 500, data: null, msg: null, message: 'Internal error' });
      case 'non-json':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Bad gateway</body></html>');
        return 200;
      case 'code-error':
        return sendJson(res, 200, { code: 40001, data: null, msg: null, message: 'Asset could not be processed' });
      case 'huge-body':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`{"code":100,"data":null,"padding":"${'x'.repeat(4 * 1024 * 1024)}"}`);
        return 200;
      case 'redirect':
        res.writeHead(307, { Location: '/redirected/v1/asset' }).end();
        return 307;
      case 'trickle-response': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const timer = setInterval(() => res.write(' '), TRICKLE_INTERVAL_MS);
        timers.add(timer);
        res.once('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
        return 200;
      }
      case 'rate-limited':
        res.setHeader('Retry-After', '7');
        return sendJson(res, 429, { code: 429, data: null, msg: null, message: 'Too many requests' });
      case 'insufficient-credit':
        return sendJson(res, 402, { code: 402, data: null, msg: null, message: 'Insufficient credit' });
      case 'rejected-file':
        return sendJson(res, 400, { code: 40010, data: null, msg: null, message: 'Video format not supported' });
      case 'unsafe-record':
        return sendJson(res, 200, {
          code: 100,
          data: { id: '<img src=x onerror=alert(1)>', file_type: kind ?? 'image', url: 'javascript:alert(document.domain)', image_key: null, created_ts: 1 },
          msg: null,
          message: null,
        });
      case 'unauthorized':
      case 'unauthorized-base64':
      case 'unauthorized-upper-case':
      case 'unauthorized-percent-encoded':
        // Echoes the key it was given, as careless upstreams do, to prove the proxy never passes it on.
        return sendJson(res, 401, {
          code: 400112,
          data: null,
          msg: null,
          message: `Unauthorized: key ${KEY_ECHOES[active]!(String(req.headers['x-api-key']))} is not valid`,
        });
      default:
        break;
    }
    if (!keyAccepted(req)) {
      return sendJson(res, 401, { code: 400112, data: null, msg: null, message: 'Invalid API key' });
    }
    if (kind === undefined) {
      return sendJson(res, 400, { code: 400, data: null, msg: null, message: `Unsupported content type: ${contentType}` });
    }
    if (bytes === 0) {
      return sendJson(res, 400, { code: 400, data: null, msg: null, message: 'Empty file' });
    }
    const id = randomBytes(16).toString('hex');
    return sendJson(res, 200, {
      code: 100,
      data: {
        id,
        name: id,
        file_type: kind,
        folder_id: '',
        meta: null,
        created_ts: Math.floor(Date.now() / 1000),
        url: `https://resource2.heygen.ai/${kind}/${id}/original`,
        image_key: kind === 'image' ? `image/${id}/original` : null,
      },
      msg: null,
      message: null,
    });
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const { port, host } = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');

  return {
    url: `http://${host}:${port}/v1/asset`,
    port,
    received,
    events,
    openConnections: () => sockets.size,
    setFault(next, times = Infinity) {
      fault = next;
      faultUsesLeft = times;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  return status;
}
