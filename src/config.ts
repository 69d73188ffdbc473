import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { readAllowedOrigin } from './allowed-origin';
import { Secret } from './secret';

/**
 * Configuration: read from the environment once, validated, typed and frozen. This is the only module
 * that reads process.env; everything else receives a Config.
 */
export type UpstreamMode = 'buffered' | 'streaming';
export type HeygenApi = 'v3' | 'v1';
export type MediaKind = 'image' | 'video' | 'audio';

export const MIB = 1024 * 1024;

/**
 * Default size limits per HeyGen API (docs/api.md, "HeyGen API versions", gives the sources):
 * - v3: video up to the 200 MiB (209,715,200 bytes) `max_bytes` HeyGen's direct upload returns;
 *   image and audio up to HeyGen's 50 MB usage limits, read as 50,000,000 bytes to hold on both
 *   readings of "MB".
 * - v1: 32 MiB each, as before (the legacy endpoint documents no cap of its own).
 */
const DEFAULT_MAX_BYTES: Readonly<Record<HeygenApi, Readonly<Record<MediaKind, number>>>> = {
  v3: { image: 50_000_000, video: 200 * MIB, audio: 50_000_000 },
  v1: { image: 32 * MIB, video: 32 * MIB, audio: 32 * MIB },
};

const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`);

const nonNegativeInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .nonnegative(`${name} must be 0 or more`);

const httpUrl = (name: string) =>
  z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      message: `${name} must be an http(s) URL`,
    });

/** TRUST_PROXY takes what Express's "trust proxy" setting takes: true/false, a hop count, or addresses. */
const trustProxySetting = z
  .string()
  .trim()
  .min(1, 'TRUST_PROXY must not be empty')
  .transform((value): boolean | number | string => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    return value;
  });

/** Each entry normalised to the form browsers send (allowed-origin.ts), or refused with what to write. */
const originList = z.string().transform((value, ctx) => {
  const origins: string[] = [];
  for (const written of value.split(',').map((origin) => origin.trim()).filter((origin) => origin.length > 0)) {
    const reading = readAllowedOrigin(written);
    if ('problem' in reading) ctx.addIssue({ code: 'custom', message: reading.problem });
    else origins.push(reading.origin);
  }
  return [...new Set(origins)];
});

// The key's own value is never part of any message: only whether it is there and usable.
const apiKey = z
  .string({ error: 'HEYGEN_API_KEY is required (your HeyGen API key)' })
  .trim()
  .min(1, 'HEYGEN_API_KEY is required (your HeyGen API key)')
  .refine((value) => !/\s/.test(value), { message: 'HEYGEN_API_KEY must not contain whitespace' });

/** One variable: the Config field it fills, its schema (type, validation, default) and what it means. */
interface Variable<Field extends string, Schema extends z.ZodType> {
  readonly field: Field;
  readonly schema: Schema;
  readonly doc: string;
}

function variable<Field extends string, Schema extends z.ZodType>(field: Field, schema: Schema, doc: string): Variable<Field, Schema> {
  return { field, schema, doc };
}

/**
 * Every variable the service reads, declared once: its name, the Config field it fills, its type,
 * validation and default (the schema), and what it means. The Config type, the parsing and the
 * frozen object are derived from this table; docs/configuration.md and .env.example are checked
 * against it by the tests.
 */
export const VARIABLES = {
  HEYGEN_API_KEY: variable('heygenApiKey', apiKey.transform((value) => new Secret(value)), 'Your HeyGen API key; it never leaves the server.'),
  HEYGEN_API: variable('heygenApi', z.enum(['v3', 'v1'], { error: 'HEYGEN_API must be "v3" or "v1"' }).default('v3'), 'Which HeyGen upload API the proxy speaks: v3, or the legacy v1.'),
  HEYGEN_API_BASE_URL: variable('heygenApiBaseUrl', httpUrl('HEYGEN_API_BASE_URL').default('https://api.heygen.com'), "HeyGen's API host; the v3 routes are built on it."),
  HEYGEN_UPLOAD_URL: variable('heygenUploadUrl', httpUrl('HEYGEN_UPLOAD_URL').default('https://upload.heygen.com/v1/asset'), "v1's Upload Asset endpoint."),
  PORT: variable(
    'port',
    z.coerce
      .number({ error: 'PORT must be a port number' })
      .int('PORT must be a port number')
      .min(0, 'PORT must be between 0 and 65535')
      .max(65535, 'PORT must be between 0 and 65535')
      .default(3000),
    'The port to listen on.',
  ),
  HOST: variable('host', z.string().trim().min(1, 'HOST must not be empty').optional(), 'The address to listen on (unset: every address).'),
  // Defaults depend on HEYGEN_API, so they are filled in after parsing (maxBytes).
  MAX_IMAGE_BYTES: variable('maxImageBytes', positiveInt('MAX_IMAGE_BYTES').optional(), 'The largest image (PNG, JPEG) in bytes.'),
  MAX_VIDEO_BYTES: variable('maxVideoBytes', positiveInt('MAX_VIDEO_BYTES').optional(), 'The largest video (MP4, WebM) in bytes.'),
  MAX_AUDIO_BYTES: variable('maxAudioBytes', positiveInt('MAX_AUDIO_BYTES').optional(), 'The largest audio file (MP3) in bytes.'),
  UPSTREAM_MODE: variable(
    'upstreamMode',
    z.enum(['buffered', 'streaming'], { error: 'UPSTREAM_MODE must be "buffered" or "streaming"' }).default('buffered'),
    'buffered: spool the file, then send it with its size; streaming: send the bytes as they arrive.',
  ),
  UPSTREAM_TIMEOUT_MS: variable('upstreamTimeoutMs', positiveInt('UPSTREAM_TIMEOUT_MS').default(60_000), 'How long one exchange with HeyGen may take.'),
  LOG_LEVEL: variable(
    'logLevel',
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    "The log level (pino's).",
  ),
  ALLOWED_ORIGINS: variable('allowedOrigins', originList.transform((origins): readonly string[] => Object.freeze(origins)).optional(), 'The browser origins that may upload, comma-separated (unset: none).'),
  RATE_LIMIT_MAX: variable('rateLimitMax', positiveInt('RATE_LIMIT_MAX').default(30), 'Uploads one client may start per window.'),
  RATE_LIMIT_WINDOW_MS: variable('rateLimitWindowMs', positiveInt('RATE_LIMIT_WINDOW_MS').default(60_000), "The rate limit's window."),
  TRUST_PROXY: variable('trustProxy', trustProxySetting.default(false), 'Which proxies in front may name the client (X-Forwarded-For): Express\'s "trust proxy".'),
  REDIS_URL: variable(
    'redisUrl',
    z
      .string()
      .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
        message: 'REDIS_URL must be a redis:// or rediss:// URL',
      })
      .optional(),
    'The Redis every replica shares (rate limits, caps, idempotency, tus locks); unset: one replica alone.',
  ),
  MAX_CONCURRENT_UPLOADS: variable('maxConcurrentUploads', positiveInt('MAX_CONCURRENT_UPLOADS').default(64), 'Requests carrying upload bytes at once on one replica.'),
  MAX_UPLOADS_PER_CLIENT: variable('maxUploadsPerClient', positiveInt('MAX_UPLOADS_PER_CLIENT').default(4), 'Requests carrying upload bytes at once per client, across replicas when Redis is shared.'),
  SHUTDOWN_GRACE_MS: variable('shutdownGraceMs', nonNegativeInt('SHUTDOWN_GRACE_MS').default(25_000), 'How long a stopping replica lets uploads in flight finish.'),
  UPLOAD_TOKEN_SECRET: variable(
    'uploadTokenSecret',
    z
      .string()
      .min(32, 'UPLOAD_TOKEN_SECRET must be at least 32 characters')
      .transform((value) => new Secret(value))
      .optional(),
    'Set: every upload needs a token minted with it (Authorization: Bearer).',
  ),
  CLIENT_IDLE_TIMEOUT_MS: variable('clientIdleTimeoutMs', positiveInt('CLIENT_IDLE_TIMEOUT_MS').default(30_000), 'A body that sends nothing for this long is cut off (408).'),
  CLIENT_MIN_BYTES_PER_SECOND: variable('clientMinBytesPerSecond', nonNegativeInt('CLIENT_MIN_BYTES_PER_SECOND').default(1024), 'Slowest average body rate an upload may keep up; 0 turns the check off.'),
  CLIENT_MIN_RATE_WINDOW_MS: variable('clientMinRateWindowMs', positiveInt('CLIENT_MIN_RATE_WINDOW_MS').default(30_000), 'The window the body rate is averaged over.'),
  HEADERS_TIMEOUT_MS: variable('headersTimeoutMs', positiveInt('HEADERS_TIMEOUT_MS').default(15_000), "How long a request's headers may take."),
  REQUEST_TIMEOUT_MS: variable('requestTimeoutMs', nonNegativeInt('REQUEST_TIMEOUT_MS').default(600_000), 'How long a whole request may take to arrive; 0: no limit.'),
  TMPDIR: variable('tmpDir', z.string().min(1).optional(), "Where buffered uploads are spooled (unset: the OS's temp directory)."),
  RESUMABLE_DIR: variable('resumableDir', z.string().trim().min(1, 'RESUMABLE_DIR must not be empty').optional(), 'Where resumable uploads are stored, shared by every replica (unset: under the OS temp directory).'),
  RESUMABLE_EXPIRY_MS: variable('resumableExpiryMs', positiveInt('RESUMABLE_EXPIRY_MS').default(24 * 60 * 60 * 1000), 'An unfinished resumable upload is removed this long after its creation.'),
  RESUMABLE_MAX_DISK_BYTES: variable('resumableMaxDiskBytes', positiveInt('RESUMABLE_MAX_DISK_BYTES').default(10 * 1024 * MIB), 'The declared bytes of every upload in the resumable store together.'),
  RESUMABLE_CLEANUP_INTERVAL_MS: variable('resumableCleanupIntervalMs', positiveInt('RESUMABLE_CLEANUP_INTERVAL_MS').default(10 * 60 * 1000), 'How often expired uploads and old completion records are removed.'),
  // Defaults to DEFAULT_CLIENT_SHARE_BYTES, raised to the largest file limit (filled in after parsing).
  RESUMABLE_MAX_BYTES_PER_CLIENT: variable('resumableMaxBytesPerClient', positiveInt('RESUMABLE_MAX_BYTES_PER_CLIENT').optional(), "One client's share of RESUMABLE_MAX_DISK_BYTES."),
  MAX_RESUMABLE_UPLOADS_PER_CLIENT: variable('maxResumableUploadsPerClient', positiveInt('MAX_RESUMABLE_UPLOADS_PER_CLIENT').default(8), "One client's unfinished resumable uploads, across replicas when Redis is shared."),
  RESUMABLE_STORE: variable(
    'resumableStore',
    z.enum(['file', 's3'], { error: 'RESUMABLE_STORE must be "file" or "s3"' }).default('file'),
    'Where resumable uploads are kept: file (RESUMABLE_DIR, shared by every replica) or s3 (a bucket).',
  ),
  RESUMABLE_S3_BUCKET: variable('resumableS3Bucket', z.string().trim().min(1, 'RESUMABLE_S3_BUCKET must not be empty').optional(), 'The bucket of RESUMABLE_STORE=s3 (required then); credentials come from the AWS SDK\'s default chain.'),
  RESUMABLE_S3_REGION: variable('resumableS3Region', z.string().trim().min(1, 'RESUMABLE_S3_REGION must not be empty').optional(), "The bucket's region (unset: the AWS SDK's own, e.g. AWS_REGION)."),
  RESUMABLE_S3_ENDPOINT: variable('resumableS3Endpoint', httpUrl('RESUMABLE_S3_ENDPOINT').optional(), "An S3-compatible store's endpoint (unset: AWS S3's own)."),
  RESUMABLE_S3_FORCE_PATH_STYLE: variable(
    'resumableS3ForcePathStyle',
    z.enum(['true', 'false'], { error: 'RESUMABLE_S3_FORCE_PATH_STYLE must be "true" or "false"' }).default('false').transform((value) => value === 'true'),
    'true: address the bucket in the path (endpoint/bucket/key), as most self-hosted stores need.',
  ),
} as const;

type Variables = typeof VARIABLES;

/** What the table parses to: each variable's value under its field name. */
type Settings = { readonly [Name in keyof Variables as Variables[Name]['field']]: z.output<Variables[Name]['schema']> };

/** Settings whose value is derived after parsing, from more than their own variable. */
type DerivedFields = 'maxImageBytes' | 'maxVideoBytes' | 'maxAudioBytes' | 'resumableMaxBytesPerClient';

export type Config = Omit<Settings, DerivedFields> & {
  /** The largest file of each kind: MAX_*_BYTES, or the HeyGen API's defaults. */
  readonly maxBytes: Readonly<Record<MediaKind, number>>;
  /** RESUMABLE_MAX_BYTES_PER_CLIENT, or DEFAULT_CLIENT_SHARE_BYTES raised to the largest file. */
  readonly resumableMaxBytesPerClient: number;
};

const environmentSchema = z.object(
  Object.fromEntries(Object.entries(VARIABLES).map(([name, declared]) => [name, declared.schema])) as { [Name in keyof Variables]: Variables[Name]['schema'] },
);

/**
 * One client's default share of the resumable store: a tenth of the default disk budget, so at least
 * ten clients are needed to fill it, and always room for one largest file.
 */
const DEFAULT_CLIENT_SHARE_BYTES = 1024 * MIB;

export type Environment = Readonly<Record<string, string | undefined>>;

/** `.env` beside package.json: this module runs as src/config.ts (tsx) or dist/config.js, one level below it. */
export const DEFAULT_ENV_FILE = join(__dirname, '..', '.env');

/**
 * What the process entry points configure from: the process environment over the variables of an env
 * file, `.env` beside package.json unless ENV_FILE names another (a missing `.env` is fine, a missing
 * named file is not). The real environment wins, variable by variable, as with `node --env-file`, so a
 * deployment's settings beat a file left on the host. The file is parsed with Node's own parser
 * (util.parseEnv, the one behind process.loadEnvFile) but not written into process.env: the result is
 * handed to loadConfig like any other source, so tests, which pass loadConfig explicit objects, never
 * see a developer's `.env`.
 */
export function readEnvironment(processEnv: Environment = process.env): Environment {
  const named = processEnv.ENV_FILE || undefined;
  const path = named ?? DEFAULT_ENV_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (named === undefined && code === 'ENOENT') return processEnv;
    throw new ConfigError([`ENV_FILE: cannot read ${path} (${code ?? String(error)})`]);
  }
  return { ...setOnly(parseEnv(text)), ...setOnly(processEnv) };
}

/** An empty variable means "not set" (see loadConfig), so it must not hide the file's value. */
function setOnly(source: Environment): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Builds the Config from `source` (the process environment by default). `defaults` fill in variables
 * the source leaves unset or empty; the dev launcher uses them to point at the stand-in upstream.
 * Throws ConfigError with one message per bad variable.
 */
export function loadConfig(source: Environment = process.env, defaults: Environment = {}): Config {
  // An empty variable (FOO= in a .env file) means "not set", as it does for most tools.
  const merged: Record<string, string | undefined> = { ...setOnly(defaults), ...setOnly(source) };
  const parsed = environmentSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      return issue.message.startsWith(variable) ? issue.message : `${variable}: ${issue.message}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const env = parsed.data;
  const settings = Object.fromEntries(Object.entries(VARIABLES).map(([name, declared]) => [declared.field, env[name as keyof Variables]])) as Settings;
  const { maxImageBytes, maxVideoBytes, maxAudioBytes, resumableMaxBytesPerClient, ...direct } = settings;
  const sizeDefaults = DEFAULT_MAX_BYTES[settings.heygenApi];
  const maxBytes = Object.freeze({
    image: maxImageBytes ?? sizeDefaults.image,
    video: maxVideoBytes ?? sizeDefaults.video,
    audio: maxAudioBytes ?? sizeDefaults.audio,
  });
  const largestFile = Math.max(...Object.values(maxBytes));
  if (resumableMaxBytesPerClient !== undefined && resumableMaxBytesPerClient < largestFile) {
    throw new ConfigError([`RESUMABLE_MAX_BYTES_PER_CLIENT must be at least the largest file limit (${largestFile} bytes), or no client could upload such a file`]);
  }
  if (settings.resumableStore === 's3' && settings.resumableS3Bucket === undefined) {
    throw new ConfigError(['RESUMABLE_S3_BUCKET is required when RESUMABLE_STORE is s3 (the bucket resumable uploads are kept in)']);
  }
  return Object.freeze({ ...direct, maxBytes, resumableMaxBytesPerClient: resumableMaxBytesPerClient ?? Math.max(DEFAULT_CLIENT_SHARE_BYTES, largestFile) });
}
