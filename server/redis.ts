import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

export type { Redis };

type RedisConfig = Config['redis'];

/** Connection options shared by every client: host, port and database index all come from REDIS_URL. */
export function redisOptions(redis: RedisConfig): RedisOptions {
  return {
    host: redis.host,
    port: redis.port,
    db: redis.db,
    username: redis.username,
    password: redis.password,
    ...(redis.tls ? { tls: {} } : {}),
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
  };
}

/**
 * A client for the request path: commands fail at once while Redis is down instead of queueing,
 * so a Redis outage never blocks a mutation (DESIGN: "Redis down must not block a mutation").
 */
export function createFastFailRedis(redis: RedisConfig, name: string): Redis {
  return new Redis({
    ...redisOptions(redis),
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    lazyConnect: false,
  });
}

/** A client for BullMQ (which requires maxRetriesPerRequest: null) and for pub/sub subscribers. */
export function createBlockingRedis(redis: RedisConfig, name: string): Redis {
  return new Redis({ ...redisOptions(redis), connectionName: name, maxRetriesPerRequest: null });
}

/** Every channel and key carries the prefix: pub/sub ignores the database index. */
export function redisKey(redis: Pick<RedisConfig, 'keyPrefix'>, ...parts: string[]): string {
  return [redis.keyPrefix, ...parts].join(':');
}
