import { loadConfig } from '../../src/config';
import { DEV_RATE_LIMIT_MAX, demoPortOf, devDefaults, rateLimitNote } from '../../src/dev/dev-settings';

/**
 * With production's 30 uploads a minute, `npm run dev`'s demo would soon answer "Too many
 * uploads". The launcher's defaults relax it; a RATE_LIMIT_MAX that is set still wins.
 */
describe('npm run dev settings', () => {
  it('relaxes the rate limit to a generous number that is still a limit', () => {
    const config = loadConfig({}, devDefaults(3001));
    expect(config.rateLimitMax).toBe(DEV_RATE_LIMIT_MAX);
    expect(DEV_RATE_LIMIT_MAX).toBeGreaterThanOrEqual(500);
    expect(Number.isFinite(DEV_RATE_LIMIT_MAX)).toBe(true);
    expect(loadConfig({ HEYGEN_API_KEY: 'k' }).rateLimitMax).toBe(30);
  });

  it('lets an explicit RATE_LIMIT_MAX win, and says which applies', () => {
    const explicit = { RATE_LIMIT_MAX: '7' };
    const config = loadConfig(explicit, devDefaults(3001));
    expect(config.rateLimitMax).toBe(7);
    expect(rateLimitNote(config, explicit)).toBe('rate limit: 7 uploads per client per 60 s (RATE_LIMIT_MAX)');
    const relaxed = loadConfig({}, devDefaults(3001));
    expect(rateLimitNote(relaxed, {})).toMatch(/^rate limit: 1000 uploads per client per 60 s, relaxed for npm run dev \(production's default is 30 a minute\)/);
  });

  it("lists the demo page's origin and reads DEMO_PORT", () => {
    expect(loadConfig({}, devDefaults(4001)).allowedOrigins).toEqual(['http://localhost:4001']);
    expect(demoPortOf({})).toBe(3001);
    expect(demoPortOf({ DEMO_PORT: '4001' })).toBe(4001);
    expect(() => demoPortOf({ DEMO_PORT: '70000' })).toThrow('DEMO_PORT must be a port number (1-65535)');
  });
});
