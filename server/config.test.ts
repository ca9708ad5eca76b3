import { describe, expect, it } from 'vitest';
import { ConfigError, DEVELOPMENT_TOTP_KEY, loadConfig } from './config.js';

const goodKey = Buffer.alloc(32, 7).toString('base64');
const prodEnv = {
  CLARION_ENV: 'production',
  DATABASE_URL: 'postgres://clarion@db:5432/clarion',
  REDIS_URL: 'redis://cache:6379/2',
  TOTP_ENCRYPTION_KEY: goodKey,
  TOKEN_SIGNING_SECRET: 'x'.repeat(40),
  AUDIT_ANCHOR_KEY: Buffer.alloc(32, 3).toString('base64'),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('works for development with nothing set', () => {
    const config = loadConfig({});
    expect(config.profile).toBe('development');
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/clarion');
    expect(config.redis).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(config.port).toBe(3000);
    expect(config.database.ssl).toBe('disable');
  });

  it('derives the profile from NODE_ENV when CLARION_ENV is unset', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).profile).toBe('test');
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
  });

  it('honours the database index of REDIS_URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://10.0.0.5:6380/3' }).redis).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3 });
  });

  it('refuses to start production without secrets, and names each one', () => {
    const problems = problemsOf({ CLARION_ENV: 'production' });
    expect(problems.join('\n')).toMatch(/TOTP_ENCRYPTION_KEY: required in production/);
    expect(problems.join('\n')).toMatch(/TOKEN_SIGNING_SECRET: required in production/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: required in production/);
    expect(problems.join('\n')).toMatch(/REDIS_URL: required in production/);
  });

  it('refuses the development secret in production', () => {
    const problems = problemsOf({ ...prodEnv, TOTP_ENCRYPTION_KEY: DEVELOPMENT_TOTP_KEY });
    expect(problems).toEqual(['TOTP_ENCRYPTION_KEY: the development key is refused in production']);
  });

  it('gives production its pool sizes and verified TLS', () => {
    const config = loadConfig(prodEnv);
    expect(config.database).toMatchObject({ poolMin: 5, poolMax: 25, ssl: 'verify-full', connectionTimeoutMs: 30_000 });
    expect(config.redis.db).toBe(2);
  });

  it('explains malformed values clearly', () => {
    expect(problemsOf({ PORT: 'eighty' }).join()).toMatch(/^PORT: /);
    expect(problemsOf({ DATABASE_URL: 'mysql://x' }).join()).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(problemsOf({ TOTP_ENCRYPTION_KEY: 'short' }).join()).toMatch(/32 bytes/);
    expect(problemsOf({ DB_POOL_MIN: '9', DB_POOL_MAX: '3' }).join()).toMatch(/DB_POOL_MIN \(9\) must not exceed DB_POOL_MAX \(3\)/);
  });
});
