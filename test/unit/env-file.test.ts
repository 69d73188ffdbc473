import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, DEFAULT_ENV_FILE, loadConfig, readEnvironment } from '../../src/config';
import { DEV_RATE_LIMIT_MAX, devDefaults } from '../../src/dev/dev-settings';

/**
 * `.env.example` invites a `.env`, so it must be read: the entry points configure from
 * readEnvironment(): the file's variables, with the real environment winning variable by variable.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'env-file-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function envFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('readEnvironment', () => {
  it('reads the variables of the env file, and the real environment wins over it', async () => {
    const ENV_FILE = await envFile('.env', ['# a comment', 'HEYGEN_API_KEY=key-from-file', 'PORT=4000', 'LOG_LEVEL=debug', 'RATE_LIMIT_MAX="12"', 'HOST='].join('\n'));
    const config = loadConfig(readEnvironment({ ENV_FILE, PORT: '5000', LOG_LEVEL: '' }));
    expect(config.heygenApiKey.reveal()).toBe('key-from-file');
    // Set in both: the environment's value.
    expect(config.port).toBe(5000);
    // Empty in the environment means "not set", so the file's value stands.
    expect(config.logLevel).toBe('debug');
    expect(config.rateLimitMax).toBe(12);
    // Empty in the file means "not set" too.
    expect(config.host).toBeUndefined();
  });

  it("lets the file's values beat loadConfig's defaults (the dev launcher's), and the environment beat both", async () => {
    const ENV_FILE = await envFile('dev.env', 'RATE_LIMIT_MAX=7\nPORT=4100\n');
    const config = loadConfig(readEnvironment({ ENV_FILE, PORT: '4200' }), { HEYGEN_API_KEY: 'dev-key', RATE_LIMIT_MAX: '1000', PORT: '3000' });
    expect(config.rateLimitMax).toBe(7);
    expect(config.port).toBe(4200);
  });

  it('refuses an ENV_FILE that cannot be read, naming it', () => {
    const missing = join(dir, 'no-such.env');
    expect(() => readEnvironment({ ENV_FILE: missing })).toThrow(ConfigError);
    expect(() => readEnvironment({ ENV_FILE: missing })).toThrow(`ENV_FILE: cannot read ${missing} (ENOENT)`);
  });

  it('looks for .env beside package.json by default, wherever the process was started', () => {
    expect(DEFAULT_ENV_FILE).toBe(resolve(__dirname, '..', '..', '.env'));
  });

  it('takes .env.example copied as it is: valid, and leaving npm run dev its relaxed rate limit', () => {
    const environment = readEnvironment({ ENV_FILE: resolve(__dirname, '..', '..', '.env.example') });
    expect(loadConfig(environment).rateLimitMax).toBe(30);
    expect(loadConfig(environment, devDefaults(3001)).rateLimitMax).toBe(DEV_RATE_LIMIT_MAX);
  });

  it('leaves loadConfig reading only what it is given', async () => {
    const ENV_FILE = await envFile('other.env', 'HEYGEN_API_KEY=key-from-file\n');
    // The file is read by readEnvironment alone: loadConfig with an explicit object never sees it.
    expect(() => loadConfig({ ENV_FILE })).toThrow('HEYGEN_API_KEY is required');
  });
});
