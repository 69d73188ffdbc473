import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config';

const KEY = 'sk-very-secret-value-123';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig({ HEYGEN_API_KEY: KEY });
    expect(config).toMatchObject({
      heygenApi: 'v3',
      heygenApiBaseUrl: 'https://api.heygen.com',
      heygenUploadUrl: 'https://upload.heygen.com/v1/asset',
      port: 3000,
      // v3: video up to HeyGen's direct-upload max_bytes (200 MiB); image and audio up to its 50 MB usage limits.
      maxBytes: { image: 50_000_000, video: 200 * 1024 * 1024, audio: 50_000_000 },
      upstreamMode: 'buffered',
      upstreamTimeoutMs: 60_000,
      logLevel: 'info',
      allowedOrigins: undefined,
      trustProxy: false,
      redisUrl: undefined,
      clientMinBytesPerSecond: 1024,
      clientMinRateWindowMs: 30_000,
      maxUploadsPerClient: 4,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('gives each client a share of the resumable store: 1 GiB, never below the largest file, and 8 unfinished uploads', () => {
    expect(loadConfig({ HEYGEN_API_KEY: KEY })).toMatchObject({ resumableMaxBytesPerClient: 1024 * 1024 * 1024, maxResumableUploadsPerClient: 8 });
    expect(loadConfig({ HEYGEN_API_KEY: KEY, MAX_VIDEO_BYTES: String(2 * 1024 * 1024 * 1024) }).resumableMaxBytesPerClient).toBe(2 * 1024 * 1024 * 1024);
    expect(problemsOf({ HEYGEN_API_KEY: KEY, RESUMABLE_MAX_BYTES_PER_CLIENT: '1000' })).toEqual([
      `RESUMABLE_MAX_BYTES_PER_CLIENT must be at least the largest file limit (${200 * 1024 * 1024} bytes), or no client could upload such a file`,
    ]);
  });

  it('keeps resumable uploads in the shared directory unless RESUMABLE_STORE=s3 names a bucket', () => {
    expect(loadConfig({ HEYGEN_API_KEY: KEY })).toMatchObject({ resumableStore: 'file', resumableS3ForcePathStyle: false });
    const s3 = { HEYGEN_API_KEY: KEY, RESUMABLE_STORE: 's3', RESUMABLE_S3_BUCKET: 'uploads', RESUMABLE_S3_ENDPOINT: 'http://127.0.0.1:7480', RESUMABLE_S3_FORCE_PATH_STYLE: 'true' };
    expect(loadConfig(s3)).toMatchObject({ resumableStore: 's3', resumableS3Bucket: 'uploads', resumableS3Endpoint: 'http://127.0.0.1:7480', resumableS3ForcePathStyle: true, resumableS3Region: undefined });
    expect(problemsOf({ HEYGEN_API_KEY: KEY, RESUMABLE_STORE: 's3' })).toEqual(['RESUMABLE_S3_BUCKET is required when RESUMABLE_STORE is s3 (the bucket resumable uploads are kept in)']);
    expect(problemsOf({ HEYGEN_API_KEY: KEY, RESUMABLE_STORE: 'gcs' })).toEqual(['RESUMABLE_STORE must be "file" or "s3"']);
    expect(problemsOf({ ...s3, RESUMABLE_S3_FORCE_PATH_STYLE: 'yes' })).toEqual(['RESUMABLE_S3_FORCE_PATH_STYLE must be "true" or "false"']);
  });

  it('keeps the legacy 32 MiB defaults under HEYGEN_API=v1, and explicit limits under either', () => {
    expect(loadConfig({ HEYGEN_API_KEY: KEY, HEYGEN_API: 'v1' }).maxBytes).toEqual({ image: 32 * 1024 * 1024, video: 32 * 1024 * 1024, audio: 32 * 1024 * 1024 });
    expect(loadConfig({ HEYGEN_API_KEY: KEY, HEYGEN_API: 'v3', MAX_VIDEO_BYTES: '1000' }).maxBytes.video).toBe(1000);
  });

  it('names a bad HEYGEN_API or HEYGEN_API_BASE_URL in one message each', () => {
    expect(problemsOf({ HEYGEN_API_KEY: KEY, HEYGEN_API: 'v2', HEYGEN_API_BASE_URL: 'ftp://x' })).toEqual([
      'HEYGEN_API must be "v3" or "v1"',
      'HEYGEN_API_BASE_URL must be an http(s) URL',
    ]);
  });

  it('gives one clear message per bad variable', () => {
    const problems = problemsOf({
      PORT: '70000',
      MAX_VIDEO_BYTES: '-5',
      UPSTREAM_MODE: 'fast',
      ALLOWED_ORIGINS: 'not a url',
      REDIS_URL: 'http://x',
      UPLOAD_TOKEN_SECRET: 'short',
    });
    expect(problems).toEqual([
      'HEYGEN_API_KEY is required (your HeyGen API key)',
      'PORT must be between 0 and 65535',
      'MAX_VIDEO_BYTES must be greater than 0',
      'UPSTREAM_MODE must be "buffered" or "streaming"',
      'ALLOWED_ORIGINS must be a comma-separated list of origins such as https://app.example.com',
      'REDIS_URL must be a redis:// or rediss:// URL',
      'UPLOAD_TOKEN_SECRET must be at least 32 characters',
    ]);
  });

  it('never echoes the key, even when it is malformed', () => {
    const problems = problemsOf({ HEYGEN_API_KEY: `${KEY} with spaces`, PORT: 'x' });
    expect(problems.join('\n')).not.toContain(KEY);
    expect(problems).toContain('HEYGEN_API_KEY must not contain whitespace');
  });

  it('keeps the key out of logs and JSON', () => {
    const config = loadConfig({ HEYGEN_API_KEY: KEY });
    expect(inspect(config)).not.toContain(KEY);
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(`${String(config.heygenApiKey)}`).toBe('[redacted]');
    expect(config.heygenApiKey.reveal()).toBe(KEY);
  });

  it('parses TRUST_PROXY and ALLOWED_ORIGINS', () => {
    expect(loadConfig({ HEYGEN_API_KEY: KEY, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ HEYGEN_API_KEY: KEY, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ HEYGEN_API_KEY: KEY, TRUST_PROXY: 'loopback' }).trustProxy).toBe('loopback');
    expect(loadConfig({ HEYGEN_API_KEY: KEY, ALLOWED_ORIGINS: 'https://a.example, http://localhost:3001' }).allowedOrigins).toEqual([
      'https://a.example',
      'http://localhost:3001',
    ]);
  });

  it('treats empty variables as unset and lets the environment win over defaults', () => {
    expect(loadConfig({ HEYGEN_API_KEY: KEY, PORT: '' }).port).toBe(3000);
    expect(loadConfig({ HEYGEN_API_KEY: KEY, PORT: '4000' }, { PORT: '5000' }).port).toBe(4000);
    expect(loadConfig({ HEYGEN_API_KEY: KEY }, { PORT: '5000' }).port).toBe(5000);
  });
});
