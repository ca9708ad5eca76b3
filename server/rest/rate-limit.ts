import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

/*
 * Per API key, at most so many REST requests a minute (a feed stuck in a retry loop must not crowd out
 * the others). Counted in Redis so every instance shares one count; while Redis is unreachable each
 * process counts in memory (the insurance limiter) rather than refuse alerts.
 */
export const REST_REQUESTS_PER_MINUTE = 600;

const cache = new WeakMap<object, RateLimiterRedis>();

export function restLimiter(deps: Pick<AppDeps, 'redis' | 'config'>): RateLimiterRedis {
  let l = cache.get(deps.redis);
  if (!l) {
    l = new RateLimiterRedis({
      storeClient: deps.redis,
      keyPrefix: redisKey(deps.config.redis, 'rest-limit', 'key'),
      points: REST_REQUESTS_PER_MINUTE,
      duration: 60,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: REST_REQUESTS_PER_MINUTE, duration: 60 }),
    });
    cache.set(deps.redis, l);
  }
  return l;
}

/** Counts one request of the key; null when it may go, else the seconds until it may. */
export async function takeRestSlot(deps: Pick<AppDeps, 'redis' | 'config'>, keyId: string): Promise<number | null> {
  try {
    await restLimiter(deps).consume(keyId);
    return null;
  } catch (err) {
    if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw err;
  }
}
