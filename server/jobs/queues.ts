import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { redisKey, redisOptions } from '../redis.js';

/**
 * Queues are kept apart so a long export can never delay an escalation: each has its own worker
 * and concurrency. Payloads are validated by zod on both sides; job ids are deterministic (and,
 * as BullMQ requires, free of ':').
 */
export const queueNames = { timers: 'timers', exports: 'exports', maintenance: 'maintenance' } as const;

export const escalatePayload = z.object({ alertId: z.string().min(1), hospitalId: z.string().min(1), level: z.number().int().min(0), version: z.number().int().min(1) });
export const expirePayload = z.object({ alertId: z.string().min(1), hospitalId: z.string().min(1) });
export const ackTimeoutPayload = z.object({ alertId: z.string().min(1), hospitalId: z.string().min(1), version: z.number().int().min(1) });
/** A shelf's time ran out (alarm issue): guarded on the version it was shelved at. */
export const unshelvePayload = ackTimeoutPayload;
export const exportPayload = z.object({ exportId: z.string().min(1) });
export const maintenancePayload = z.object({}).strict();

export const jobIds = {
  escalate: (p: z.infer<typeof escalatePayload>) => `esc-${p.alertId}-${p.level}-${p.version}`,
  expire: (alertId: string) => `exp-${alertId}`,
  ackTimeout: (alertId: string, version: number) => `ack-${alertId}-${version}`,
  unshelve: (alertId: string, version: number) => `unshelve-${alertId}-${version}`,
  export: (exportId: string) => `export-${exportId}`,
};

export interface Queues {
  timers: Queue;
  exports: Queue;
  maintenance: Queue;
  close(): Promise<void>;
}

export const bullPrefix = (config: Pick<Config, 'redis'>) => redisKey(config.redis, 'bull');

/**
 * Producers for the request path: a connection that fails fast while Redis is down (the sweeper
 * repairs any timer that could not be added), so enqueueing never blocks a mutation.
 */
export function createQueues(config: Pick<Config, 'redis'>, log: Logger): Queues {
  const connection = new Redis({ ...redisOptions(config.redis), connectionName: `${config.redis.keyPrefix}-producer`, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on('error', (err) => log.debug({ err: err.message }, 'queue producer redis error'));
  const prefix = bullPrefix(config);
  const defaults = { removeOnComplete: { age: 3_600, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } };
  const make = (name: string) => {
    const queue = new Queue(name, { connection, prefix, defaultJobOptions: defaults });
    // Without a listener BullMQ prints every connection error of an outage to stderr.
    queue.on('error', (err) => log.debug({ err: err.message, queue: name }, 'queue error'));
    return queue;
  };
  const queues = { timers: make(queueNames.timers), exports: make(queueNames.exports), maintenance: make(queueNames.maintenance) };
  return {
    ...queues,
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
      connection.disconnect();
    },
  };
}
