import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

/** A board counts while its heartbeat is fresh; boards beat every HEARTBEAT_MS. */
export const PRESENCE_TTL_MS = 30_000;
export const HEARTBEAT_MS = 10_000;

type PresenceDeps = Pick<AppDeps, 'config' | 'redis'>;

const presenceKey = (deps: PresenceDeps, hospitalId: string) => redisKey(deps.config.redis, 'presence', hospitalId);
const knownKey = (deps: PresenceDeps, hospitalId: string) => redisKey(deps.config.redis, 'presence-known', hospitalId);

/**
 * Presence is one sorted set per hospital: member `<department>|<connection>`, score = when it lapses.
 * Any instance's boards count; a board that vanishes (crash, lost network) lapses after the TTL.
 */
export async function announceScreen(deps: PresenceDeps, hospitalId: string, departmentId: string, connectionId: string): Promise<void> {
  const key = presenceKey(deps, hospitalId);
  await deps.redis
    .multi()
    .zadd(key, Date.now() + PRESENCE_TTL_MS, `${departmentId}|${connectionId}`)
    .pexpire(key, PRESENCE_TTL_MS * 4)
    .sadd(knownKey(deps, hospitalId), departmentId)
    .exec();
}

export async function withdrawScreen(deps: PresenceDeps, hospitalId: string, departmentId: string, connectionId: string): Promise<void> {
  await deps.redis.zrem(presenceKey(deps, hospitalId), `${departmentId}|${connectionId}`);
}

/** Screens online per department (departments that ever had one are `known`). Throws if Redis is down. */
export async function screensOnline(deps: PresenceDeps, hospitalId: string): Promise<{ counts: Map<string, number>; known: Set<string> }> {
  const key = presenceKey(deps, hospitalId);
  const [, members, known] = (await deps.redis
    .multi()
    .zremrangebyscore(key, '-inf', String(Date.now()))
    .zrange(key, '0', '-1')
    .smembers(knownKey(deps, hospitalId))
    .exec()) as [unknown, [Error | null, string[]], [Error | null, string[]]];
  const counts = new Map<string, number>();
  for (const m of members[1] ?? []) {
    const dept = m.split('|')[0] as string;
    counts.set(dept, (counts.get(dept) ?? 0) + 1);
  }
  return { counts, known: new Set(known[1] ?? []) };
}
