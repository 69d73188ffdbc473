import { ConfigError, loadConfig } from '../../src/config';

/**
 * An origin written with a trailing slash (or upper case, or its default port) would never
 * match the browser's Origin header, and every upload from that page would be refused with a generic
 * message. Such entries are written the way browsers send them; entries that are not origins stop
 * the process at start with what to write instead.
 */
function originsOf(value: string): readonly string[] | undefined {
  return loadConfig({ HEYGEN_API_KEY: 'k', ALLOWED_ORIGINS: value }).allowedOrigins;
}

function problemsOf(value: string): readonly string[] {
  try {
    loadConfig({ HEYGEN_API_KEY: 'k', ALLOWED_ORIGINS: value });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ALLOWED_ORIGINS=${value} to be refused`);
}

describe('ALLOWED_ORIGINS', () => {
  it('writes each origin as browsers send it: no trailing slash, lower-case scheme and host, no default port', () => {
    expect(originsOf('https://app.example.com/, HTTPS://Admin.Example.COM:443, http://localhost:3001/, http://LOCALHOST:80')).toEqual([
      'https://app.example.com',
      'https://admin.example.com',
      'http://localhost:3001',
      'http://localhost',
    ]);
  });

  it('keeps a port that is not the default, and an internationalised host in punycode', () => {
    expect(originsOf('https://app.example.com:8443,https://bücher.example')).toEqual(['https://app.example.com:8443', 'https://xn--bcher-kva.example']);
  });

  it('lists an origin once however often it is written', () => {
    expect(originsOf('https://app.example.com,https://app.example.com/,HTTPS://APP.EXAMPLE.COM')).toEqual(['https://app.example.com']);
  });

  it('refuses a path, naming the entry and the origin to write instead', () => {
    expect(problemsOf('https://app.example.com/upload')).toEqual([
      'ALLOWED_ORIGINS: "https://app.example.com/upload" is more than an origin (scheme://host[:port], no path); write https://app.example.com',
    ]);
    expect(problemsOf('https://app.example.com/?x=1')).toEqual([expect.stringContaining('write https://app.example.com')]);
    expect(problemsOf('https://user@app.example.com')).toEqual([expect.stringContaining('write https://app.example.com')]);
  });

  it('refuses a wildcard, saying to list each origin', () => {
    expect(problemsOf('https://*.example.com')).toEqual([expect.stringMatching(/^ALLOWED_ORIGINS: "https:\/\/\*\.example\.com" is a wildcard, which is not supported; list each origin/)]);
    expect(problemsOf('*')).toEqual([expect.stringContaining('is a wildcard')]);
  });

  it('refuses an entry without a scheme, suggesting one', () => {
    expect(problemsOf('localhost:3001')).toEqual([
      'ALLOWED_ORIGINS: "localhost:3001" has no scheme; write it with one, such as http://localhost:3001 or https://localhost:3001',
    ]);
  });

  it('refuses a scheme browsers do not upload from', () => {
    expect(problemsOf('ftp://files.example.com')).toEqual([expect.stringContaining('is not an http:// or https:// origin')]);
  });

  it('names every bad entry, and keeps the general message for one that is not a URL at all', () => {
    expect(problemsOf('https://ok.example, not a url, https://a.example/x')).toEqual([
      'ALLOWED_ORIGINS must be a comma-separated list of origins such as https://app.example.com',
      expect.stringContaining('"https://a.example/x" is more than an origin'),
    ]);
  });
});
