import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out. Request headers are not logged at all; these are the second line of defence
 * for anything that ever carries a credential. All explicit: wildcard paths ('*.token') make pino
 * walk every logged object on every line, and no line we write has
 * such a field one level down. An axios error logged as `err` carries the request headers (the API
 * key) under `config.headers`, so that path is listed where an error can sit.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'config.headers',
  'err.config.headers',
  'err.cause.config.headers',
  'apiKey',
  'token',
];

/** Structured JSON logs to stdout (or `destination` in tests), with credentials redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'heygen-upload-proxy' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
