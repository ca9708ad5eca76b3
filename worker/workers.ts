import { UnrecoverableError, Worker } from 'bullmq';
import type { AppDeps } from '../server/deps.js';
import { bullPrefix, queueNames } from '../server/jobs/queues.js';
import { createBlockingRedis, redisKey } from '../server/redis.js';
import { backupProcessor } from './processors/backup.js';
import { exportProcessor } from './processors/export.js';
import { auditAnchorProcessor, auditRetentionProcessor, eventRetentionProcessor, exportCleanupProcessor, idempotencyCleanupProcessor, loginFailureCleanupProcessor } from './processors/maintenance.js';
import { startSweeper } from './processors/sweeper.js';
import { checkFeedHeartbeats, HEARTBEAT_CHECK_MS } from '../server/integrations/heartbeats.js';
import { sendDueWebhooks, WEBHOOK_INTERVAL_MS } from '../server/integrations/webhook-sender.js';
import { SEND_INTERVAL_MS, sendDueAttempts } from '../server/notifications/sender.js';
import { startLoop } from './loop.js';
import { presenceCheckProcessor } from './processors/presence.js';
import { ackTimeoutProcessor, escalateProcessor, expireProcessor, unshelveProcessor } from './processors/timers.js';
import type { AnyProcessor, QueueKey } from './registry.js';

/** Every job the worker runs (the sweeper is not one: it runs on the worker's own timer). A job name not listed here fails unrecoverably. */
export const processors: AnyProcessor[] = [
  escalateProcessor,
  expireProcessor,
  ackTimeoutProcessor,
  unshelveProcessor,
  exportProcessor,
  auditRetentionProcessor,
  auditAnchorProcessor,
  exportCleanupProcessor,
  loginFailureCleanupProcessor,
  idempotencyCleanupProcessor,
  eventRetentionProcessor,
  presenceCheckProcessor,
  backupProcessor,
];

// Timers run many at once and never wait behind an export; exports run one at a time.
const concurrency: Record<QueueKey, number> = { timers: 20, exports: 1, maintenance: 1 };

export const HEARTBEAT_TTL_SECONDS = 30;
const CLOSE_BOUND_MS = 8_000;
export const heartbeatKey = (deps: Pick<AppDeps, 'config'>) => redisKey(deps.config.redis, 'worker', 'heartbeat');

export interface RunningWorkers {
  queueNames: string[];
  workers: Worker[];
  close(): Promise<void>;
}

export async function startWorkers(deps: AppDeps): Promise<RunningWorkers> {
  // First, and needing only Postgres: a worker started during a Redis outage still escalates.
  const sweeper = startSweeper(deps);
  // The outbox sender needs only Postgres too: pages reach phones through a Redis outage.
  const sender = startLoop('page-sender', SEND_INTERVAL_MS, deps.log.child({ loop: 'page-sender' }), () => sendDueAttempts(deps));
  // And the integrations' webhook outbox (rows written with each event by a trigger).
  const hooks = startLoop('webhook-sender', WEBHOOK_INTERVAL_MS, deps.log.child({ loop: 'webhook-sender' }), () => sendDueWebhooks(deps));
  const heartbeats = startLoop('feed-heartbeats', HEARTBEAT_CHECK_MS, deps.log.child({ loop: 'feed-heartbeats' }), () => checkFeedHeartbeats(deps));
  const prefix = bullPrefix(deps.config);
  const connections: ReturnType<typeof createBlockingRedis>[] = [];
  const workers = (Object.keys(queueNames) as QueueKey[]).map((queue) => {
    const connection = createBlockingRedis(deps.config.redis, `${deps.config.redis.keyPrefix}-worker-${queue}`);
    connection.on('error', (err) => deps.log.debug({ err: err.message, queue }, 'worker redis error'));
    connections.push(connection);
    const mine = new Map(processors.filter((p) => p.queue === queue).map((p) => [p.name, p]));
    const worker = new Worker(
      queueNames[queue],
      async (job) => {
        const log = deps.log.child({ queue, job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 });
        const processor = mine.get(job.name);
        if (!processor) throw new UnrecoverableError(`no processor for job "${job.name}"`);
        const parsed = processor.schema.safeParse(job.data);
        if (!parsed.success) {
          log.error({ issues: parsed.error.issues.map((i: { path: PropertyKey[]; message: string }) => `${i.path.map(String).join('.')}: ${i.message}`) }, 'invalid job payload; not retried');
          throw new UnrecoverableError('invalid job payload');
        }
        return processor.run(deps, parsed.data, log);
      },
      { connection, prefix, concurrency: concurrency[queue] },
    );
    worker.on('failed', (job, err) => deps.log.warn({ queue, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed'));
    worker.on('error', (err) => deps.log.debug({ err: err.message, queue }, 'worker error'));
    return worker;
  });

  // Schedules live in Redis: re-created at start and whenever they vanish (a Redis restart without
  // persistence, or FLUSHDB). Never awaited at start: with Redis down the worker must still start.
  const maintenance = deps.queues.maintenance;
  const ensureSchedules = async () => {
    // The sweeper used to be a repeatable job; a schedule left by an older version is removed.
    await maintenance.removeJobScheduler('sweep');
    await maintenance.upsertJobScheduler('audit-retention', { pattern: '15 3 * * *' }, { name: 'audit-retention', data: {} });
    await maintenance.upsertJobScheduler('audit-anchor', { every: deps.config.worker.auditAnchorEveryMs }, { name: 'audit-anchor', data: {} });
    await maintenance.upsertJobScheduler('presence-check', { every: deps.config.worker.presenceCheckMs }, { name: 'presence-check', data: {} });
    await maintenance.upsertJobScheduler('event-retention', { pattern: '45 3 * * *' }, { name: 'event-retention', data: {} });
    await maintenance.upsertJobScheduler('export-cleanup', { every: 3_600_000 }, { name: 'export-cleanup', data: {} });
    await maintenance.upsertJobScheduler('login-failure-cleanup', { every: 3_600_000 }, { name: 'login-failure-cleanup', data: {} });
    await maintenance.upsertJobScheduler('idempotency-cleanup', { every: 3_600_000 }, { name: 'idempotency-cleanup', data: {} });
    if (deps.config.backup.schedule === 'off') await maintenance.removeJobScheduler('backup');
    else await maintenance.upsertJobScheduler('backup', { pattern: deps.config.backup.schedule }, { name: 'backup', data: {} });
  };
  const ensured = ensureSchedules().catch((err) => deps.log.warn({ err: err.message }, 'job schedules not created (Redis down?); retried every 10 s'));

  const beat = () => deps.redis.set(heartbeatKey(deps), new Date().toISOString(), 'EX', HEARTBEAT_TTL_SECONDS).catch(() => undefined);
  // At start the fail-fast client is usually still connecting: beat as soon as it is ready too.
  deps.redis.on('ready', beat);
  void beat();
  const timer = setInterval(() => {
    void beat();
    void maintenance
      .getJobScheduler('export-cleanup')
      .then((found) => (found ? undefined : ensureSchedules().then(() => deps.log.warn('job schedules were missing from Redis; re-created'))))
      .catch(() => undefined);
  }, 10_000);
  timer.unref();

  return {
    queueNames: Object.values(queueNames),
    workers,
    async close() {
      clearInterval(timer);
      deps.redis.off('ready', beat);
      await sweeper.stop();
      await Promise.all([sender.stop(), hooks.stop(), heartbeats.stop()]);
      // Graceful: stop taking jobs and let the active ones finish; with Redis down that cannot be
      // confirmed, so after a bound the workers are closed without waiting.
      const closing = Promise.all(workers.map((w) => w.close()));
      const bound = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), CLOSE_BOUND_MS).unref());
      if ((await Promise.race([closing, bound])) === 'timeout') await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
      await Promise.race([ensured, bound]);
      for (const c of connections) c.disconnect();
    },
  };
}
