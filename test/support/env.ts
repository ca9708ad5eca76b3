import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, inject } from 'vitest';
import { type Config, loadConfig } from '../../server/config.js';
import { dropDatabase, ensureDatabase, withDatabase } from '../../server/db/admin.js';
import { closeDeps, createDeps, type AppDeps } from '../../server/deps.js';
import { createLogger } from '../../server/logger.js';
import { createFastFailRedis } from '../../server/redis.js';
import { BASE_URL } from './global-setup.js';

export interface TestEnv {
  config: Config;
  deps: AppDeps;
  databaseUrl: string;
  /** Environment for child processes (server, worker) that must share this file's database and prefix. */
  childEnv: Record<string, string>;
}

export const LOG_DIR = new URL('../../test-artifacts/logs', import.meta.url).pathname;

/**
 * A database of this file's own (cloned from the migrated template) and a Redis key prefix of its own,
 * so test files run in parallel. Removed when the file finishes.
 */
export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const runId = inject('runId');
  const tag = randomBytes(3).toString('hex');
  const databaseUrl = withDatabase(BASE_URL, `clarion_t_${runId}_${tag}`);
  await ensureDatabase(databaseUrl, inject('templateDatabase'));
  const childEnv = {
    CLARION_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    REDIS_KEY_PREFIX: `clarion_t_${runId}_${tag}`,
    LOG_LEVEL: 'info',
    ...overrides,
  };
  const config = loadConfig(childEnv);
  mkdirSync(LOG_DIR, { recursive: true });
  const file = basename(expect.getState().testPath ?? 'unknown');
  // Every log line of the run is kept, so a test can scan them for leaked secrets.
  const log = createLogger(config, pino.destination({ dest: `${LOG_DIR}/${file}.${tag}.ndjson`, sync: true }));
  const deps = createDeps(config, log);
  afterAll(async () => {
    await closeDeps(deps);
    await clearRedisPrefix(config);
    await dropDatabase(databaseUrl);
  });
  return { config, deps, databaseUrl, childEnv };
}

export async function clearRedisPrefix(config: Config): Promise<void> {
  const redis = createFastFailRedis(config.redis, 'clarion-test-cleanup');
  try {
    await new Promise((resolve) => redis.once('ready', resolve));
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.keyPrefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
