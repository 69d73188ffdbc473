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

export interface Config {
  readonly heygenApiKey: Secret;
  /** Which HeyGen upload API the proxy speaks: v3 (default) or the legacy v1. */
  readonly heygenApi: HeygenApi;
  /** HeyGen's API host; the v3 routes are built on it. */
  readonly heygenApiBaseUrl: string;
  /** v1's Upload Asset endpoint. */
  readonly heygenUploadUrl: string;
  readonly port: number;
  readonly host: string | undefined;
  readonly maxBytes: Readonly<Record<MediaKind, number>>;
  readonly upstreamMode: UpstreamMode;
  readonly upstreamTimeoutMs: number;
  readonly logLevel: string;
  readonly allowedOrigins: readonly string[] | undefined;
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  readonly trustProxy: boolean | number | string;
  readonly redisUrl: string | undefined;
  readonly maxConcurrentUploads: number;
  /** Uploads in progress at once per client (clientKeyOf), across replicas when Redis is shared. */
  readonly maxUploadsPerClient: number;
  readonly shutdownGraceMs: number;
  readonly uploadTokenSecret: Secret | undefined;
  readonly clientIdleTimeoutMs: number;
  /** Slowest average body rate an upload may keep up; 0 turns the check off. */
  readonly clientMinBytesPerSecond: number;
  /** The window the body rate is averaged over. */
  readonly clientMinRateWindowMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly tmpDir: string | undefined;
  /** Resumable uploads (tus, /v1/uploads): where they are stored (shared by every replica), unset = under the OS temp dir. */
  readonly resumableDir: string | undefined;
  readonly resumableExpiryMs: number;
  readonly resumableMaxDiskBytes: number;
  /** One client's share of resumableMaxDiskBytes (declared bytes of its unfinished uploads). */
  readonly resumableMaxBytesPerClient: number;
  /** One client's unfinished resumable uploads, across replicas when Redis is shared. */
  readonly maxResumableUploadsPerClient: number;
  readonly resumableCleanupIntervalMs: number;
}

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

const environmentSchema = z.object({
  HEYGEN_API_KEY: apiKey,
  HEYGEN_API: z.enum(['v3', 'v1'], { error: 'HEYGEN_API must be "v3" or "v1"' }).default('v3'),
  HEYGEN_API_BASE_URL: httpUrl('HEYGEN_API_BASE_URL').default('https://api.heygen.com'),
  HEYGEN_UPLOAD_URL: httpUrl('HEYGEN_UPLOAD_URL').default('https://upload.heygen.com/v1/asset'),
  PORT: z.coerce
    .number({ error: 'PORT must be a port number' })
    .int('PORT must be a port number')
    .min(0, 'PORT must be between 0 and 65535')
    .max(65535, 'PORT must be between 0 and 65535')
    .default(3000),
  HOST: z.string().trim().min(1, 'HOST must not be empty').optional(),
  // Defaults depend on HEYGEN_API, so they are filled in after parsing.
  MAX_IMAGE_BYTES: positiveInt('MAX_IMAGE_BYTES').optional(),
  MAX_VIDEO_BYTES: positiveInt('MAX_VIDEO_BYTES').optional(),
  MAX_AUDIO_BYTES: positiveInt('MAX_AUDIO_BYTES').optional(),
  UPSTREAM_MODE: z
    .enum(['buffered', 'streaming'], { error: 'UPSTREAM_MODE must be "buffered" or "streaming"' })
    .default('buffered'),
  UPSTREAM_TIMEOUT_MS: positiveInt('UPSTREAM_TIMEOUT_MS').default(60_000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  ALLOWED_ORIGINS: originList.optional(),
  RATE_LIMIT_MAX: positiveInt('RATE_LIMIT_MAX').default(30),
  RATE_LIMIT_WINDOW_MS: positiveInt('RATE_LIMIT_WINDOW_MS').default(60_000),
  TRUST_PROXY: trustProxySetting.default(false),
  REDIS_URL: z
    .string()
    .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
      message: 'REDIS_URL must be a redis:// or rediss:// URL',
    })
    .optional(),
  MAX_CONCURRENT_UPLOADS: positiveInt('MAX_CONCURRENT_UPLOADS').default(64),
  MAX_UPLOADS_PER_CLIENT: positiveInt('MAX_UPLOADS_PER_CLIENT').default(4),
  SHUTDOWN_GRACE_MS: nonNegativeInt('SHUTDOWN_GRACE_MS').default(25_000),
  UPLOAD_TOKEN_SECRET: z.string().min(32, 'UPLOAD_TOKEN_SECRET must be at least 32 characters').optional(),
  CLIENT_IDLE_TIMEOUT_MS: positiveInt('CLIENT_IDLE_TIMEOUT_MS').default(30_000),
  CLIENT_MIN_BYTES_PER_SECOND: nonNegativeInt('CLIENT_MIN_BYTES_PER_SECOND').default(1024),
  CLIENT_MIN_RATE_WINDOW_MS: positiveInt('CLIENT_MIN_RATE_WINDOW_MS').default(30_000),
  HEADERS_TIMEOUT_MS: positiveInt('HEADERS_TIMEOUT_MS').default(15_000),
  REQUEST_TIMEOUT_MS: nonNegativeInt('REQUEST_TIMEOUT_MS').default(600_000),
  TMPDIR: z.string().min(1).optional(),
  RESUMABLE_DIR: z.string().trim().min(1, 'RESUMABLE_DIR must not be empty').optional(),
  RESUMABLE_EXPIRY_MS: positiveInt('RESUMABLE_EXPIRY_MS').default(24 * 60 * 60 * 1000),
  RESUMABLE_MAX_DISK_BYTES: positiveInt('RESUMABLE_MAX_DISK_BYTES').default(10 * 1024 * MIB),
  RESUMABLE_CLEANUP_INTERVAL_MS: positiveInt('RESUMABLE_CLEANUP_INTERVAL_MS').default(10 * 60 * 1000),
  // Defaults to DEFAULT_CLIENT_SHARE_BYTES, raised to the largest file limit (filled in after parsing).
  RESUMABLE_MAX_BYTES_PER_CLIENT: positiveInt('RESUMABLE_MAX_BYTES_PER_CLIENT').optional(),
  MAX_RESUMABLE_UPLOADS_PER_CLIENT: positiveInt('MAX_RESUMABLE_UPLOADS_PER_CLIENT').default(8),
});

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
  const sizeDefaults = DEFAULT_MAX_BYTES[env.HEYGEN_API];
  const maxBytes = Object.freeze({
    image: env.MAX_IMAGE_BYTES ?? sizeDefaults.image,
    video: env.MAX_VIDEO_BYTES ?? sizeDefaults.video,
    audio: env.MAX_AUDIO_BYTES ?? sizeDefaults.audio,
  });
  const largestFile = Math.max(...Object.values(maxBytes));
  if (env.RESUMABLE_MAX_BYTES_PER_CLIENT !== undefined && env.RESUMABLE_MAX_BYTES_PER_CLIENT < largestFile) {
    throw new ConfigError([`RESUMABLE_MAX_BYTES_PER_CLIENT must be at least the largest file limit (${largestFile} bytes), or no client could upload such a file`]);
  }
  return Object.freeze({
    heygenApiKey: new Secret(env.HEYGEN_API_KEY),
    heygenApi: env.HEYGEN_API,
    heygenApiBaseUrl: env.HEYGEN_API_BASE_URL,
    heygenUploadUrl: env.HEYGEN_UPLOAD_URL,
    port: env.PORT,
    host: env.HOST,
    maxBytes,
    upstreamMode: env.UPSTREAM_MODE,
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    logLevel: env.LOG_LEVEL,
    allowedOrigins: env.ALLOWED_ORIGINS ? Object.freeze([...env.ALLOWED_ORIGINS]) : undefined,
    rateLimitMax: env.RATE_LIMIT_MAX,
    rateLimitWindowMs: env.RATE_LIMIT_WINDOW_MS,
    trustProxy: env.TRUST_PROXY,
    redisUrl: env.REDIS_URL,
    maxConcurrentUploads: env.MAX_CONCURRENT_UPLOADS,
    maxUploadsPerClient: env.MAX_UPLOADS_PER_CLIENT,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    uploadTokenSecret: env.UPLOAD_TOKEN_SECRET === undefined ? undefined : new Secret(env.UPLOAD_TOKEN_SECRET),
    clientIdleTimeoutMs: env.CLIENT_IDLE_TIMEOUT_MS,
    clientMinBytesPerSecond: env.CLIENT_MIN_BYTES_PER_SECOND,
    clientMinRateWindowMs: env.CLIENT_MIN_RATE_WINDOW_MS,
    headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    tmpDir: env.TMPDIR,
    resumableDir: env.RESUMABLE_DIR,
    resumableExpiryMs: env.RESUMABLE_EXPIRY_MS,
    resumableMaxDiskBytes: env.RESUMABLE_MAX_DISK_BYTES,
    resumableCleanupIntervalMs: env.RESUMABLE_CLEANUP_INTERVAL_MS,
    resumableMaxBytesPerClient: env.RESUMABLE_MAX_BYTES_PER_CLIENT ?? Math.max(DEFAULT_CLIENT_SHARE_BYTES, largestFile),
    maxResumableUploadsPerClient: env.MAX_RESUMABLE_UPLOADS_PER_CLIENT,
  });
}
