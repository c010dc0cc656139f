import path from 'node:path';
import { loadConfig } from '../../core/config';

describe('configuration', () => {
  it('defaults to the embedded stack', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe(path.resolve('./.data'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.temporal.address).toBeUndefined();
    expect(config.authRateLimit).toEqual({ max: 10, windowSec: 900 });
  });

  it('takes existing services from the environment', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://db/flowbot', TEMPORAL_ADDRESS: 'temporal:7233', PORT: '8080', COOKIE_SECURE: 'true' });
    expect(config.databaseUrl).toBe('postgresql://db/flowbot');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.port).toBe(8080);
    expect(config.cookieSecure).toBe(true);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });
});
