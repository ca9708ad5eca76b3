import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

/*
 * SMS and calls cost money and wake people: per person and per hospital, at most so many an hour
 * (a paging loop, a misconfigured chain, or SMS pumping through verification codes). Counted in
 * Redis so every worker and server shares one count; while Redis is unreachable each process
 * counts in memory (the insurance limiter) rather than block or stop paging.
 */
const HOUR = 3600;

type LimitDeps = Pick<AppDeps, 'redis'> & { config: Pick<Config, 'redis' | 'telephonyLimits'> };
type Limiters = { user: RateLimiterRedis; hospital: RateLimiterRedis };
const cache = new WeakMap<object, Limiters>();

function limitersOf(deps: LimitDeps): Limiters {
  let l = cache.get(deps.redis);
  if (!l) {
    const make = (scope: string, points: number) =>
      new RateLimiterRedis({
        storeClient: deps.redis,
        keyPrefix: redisKey(deps.config.redis, 'telephony-limit', scope),
        points,
        duration: HOUR,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: HOUR }),
      });
    const { perUserPerHour, perHospitalPerHour } = deps.config.telephonyLimits;
    l = { user: make('user', perUserPerHour), hospital: make('hospital', perHospitalPerHour) };
    cache.set(deps.redis, l);
  }
  return l;
}

/**
 * Counts one SMS or call to `userId`; null when it may go, else why not (the attempt fails with
 * this and the page falls through to the next channel). The hospital's count is taken only when
 * the person's allows it, so one person's flood does not use up the hospital's budget.
 */
export async function takeTelephonySlot(deps: LimitDeps, hospitalId: string, userId: string): Promise<string | null> {
  const l = limitersOf(deps);
  const { perUserPerHour, perHospitalPerHour } = deps.config.telephonyLimits;
  try {
    await l.user.consume(`${hospitalId}:${userId}`);
  } catch (err) {
    if (err instanceof RateLimiterRes) return `Rate limit: more than ${perUserPerHour} SMS and calls to this person in an hour`;
    throw err;
  }
  try {
    await l.hospital.consume(hospitalId);
  } catch (err) {
    if (err instanceof RateLimiterRes) return `Rate limit: more than ${perHospitalPerHour} SMS and calls for this hospital in an hour`;
    throw err;
  }
  return null;
}
