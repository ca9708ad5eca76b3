import { afterAll } from 'vitest';
import { freePort, PrivateRedis } from '../../scripts/fault-lib.js';
import { createTestEnv, type TestEnv } from './env.js';

export interface OutageEnv {
  env: TestEnv;
  readonly redisUp: boolean;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
}

/**
 * A test env whose Redis is a PRIVATE redis-server this file may stop and start (the machine's shared
 * Redis is never touched). Clean-up brings Redis back before the env's own clean-up, which needs it,
 * and stops it last (after-hooks run in reverse order).
 */
export async function createOutageEnv(overrides: Record<string, string> = {}): Promise<OutageEnv> {
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  afterAll(() => redis.stop());
  const env = await createTestEnv({ REDIS_URL: redis.url(), ...overrides });
  let up = true;
  const outage: OutageEnv = {
    env,
    get redisUp() {
      return up;
    },
    async stopRedis() {
      if (!up) return;
      await redis.stop();
      up = false;
    },
    async startRedis() {
      if (up) return;
      await redis.start();
      up = true;
    },
  };
  afterAll(() => outage.startRedis());
  return outage;
}
