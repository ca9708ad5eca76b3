import type pg from 'pg';
import type { AlertPager, AlertTimers } from './alerts/change.js';
import { SessionCache } from './auth/session-cache.js';
import type { Config } from './config.js';
import { createDatabase, createPool, type Database, watchPool } from './db/client.js';
import { instrumentPool } from './db/slow-query.js';
import type { Logger } from './logger.js';
import { AppMetrics } from './metrics.js';
import { createQueues, type Queues } from './jobs/queues.js';
import { createAlertTimers } from './jobs/timers.js';
import { alertPager } from './paging/pager.js';
import { createFastFailRedis, type Redis } from './redis.js';

/**
 * The dependency container: built once per process (server or worker) and handed to services,
 * which take what they need as arguments so the worker and the tests reuse them unchanged.
 */
export interface AppDeps {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Database;
  /** Request-path Redis: fails fast while Redis is down instead of queueing. */
  redis: Redis;
  /** BullMQ producers (escalation and expiry timers, exports, maintenance). */
  queues: Queues;
  /** Schedules an alert's escalation and expiry timers after each change. */
  timers: AlertTimers;
  /** Pages people when an alert is raised or reaches a level (people issue). */
  pager: AlertPager;
  metrics: AppMetrics;
  /** Sessions resolved in the last second, dropped by control messages (server/auth/session-cache.ts). */
  sessionCache: SessionCache;
}

export function createDeps(config: Config, log: Logger): AppDeps {
  const pool = createPool(config);
  watchPool(pool, log);
  const redis = createFastFailRedis(config.redis, 'clarion-app');
  redis.on('error', (err) => log.debug({ err: err.message }, 'redis connection error'));
  const queues = createQueues(config, log);
  const metrics = new AppMetrics();
  instrumentPool(pool, {
    thresholdMs: config.database.slowQueryMs,
    log,
    onQuery: (ms, slow) => {
      metrics.queryDuration.observe(ms / 1000);
      if (slow) metrics.slowQueries.inc();
    },
  });
  metrics.watchPool(pool);
  metrics.watchQueues({ timers: queues.timers, exports: queues.exports, maintenance: queues.maintenance });
  return { config, log, pool, db: createDatabase(pool, log), redis, queues, timers: createAlertTimers(queues, log), pager: alertPager, metrics, sessionCache: new SessionCache() };
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  await deps.queues.close();
  deps.redis.disconnect();
  await deps.pool.end();
}
