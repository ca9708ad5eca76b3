import { and, asc, eq, lte, sql } from 'drizzle-orm';
import { auditExports } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { jobIds } from '../jobs/queues.js';

const BATCH = 100;
const ENQUEUE_BUDGET_MS = 2_000;

/** The job of an export request. The job id is the export's: adding it again while it waits is a no-op. */
export function exportJobOptions(exportId: string) {
  return { jobId: jobIds.export(exportId), attempts: 3, backoff: { type: 'exponential', delay: 2_000 } };
}

/**
 * Queues again every export request still `queued` after `requeueAfterSeconds`: its job was never
 * added (Redis down when it was requested) or was lost with Redis' data. A request whose job still
 * waits (a long export ahead of it) is untouched, because BullMQ ignores an `add` with the id of an
 * existing job; one being processed is `running`, not `queued`. Bounded in time and skipped while
 * Redis is down, so the sweeper that calls it never waits on Redis.
 */
export async function requeueStuckExports(deps: Pick<AppDeps, 'db' | 'queues' | 'redis' | 'config' | 'log'>): Promise<number> {
  if (deps.redis.status !== 'ready') return 0;
  const stuck = await deps.db
    .select({ id: auditExports.id })
    .from(auditExports)
    .where(and(eq(auditExports.status, 'queued'), lte(auditExports.createdAt, sql`now() - make_interval(secs => ${deps.config.exports.requeueAfterSeconds})`)))
    .orderBy(asc(auditExports.createdAt))
    .limit(BATCH);
  if (!stuck.length) return 0;
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ENQUEUE_BUDGET_MS);
  });
  const added = Promise.allSettled(stuck.map((e) => deps.queues.exports.add('export', { exportId: e.id }, exportJobOptions(e.id))));
  const outcome = await Promise.race([added, budget]);
  clearTimeout(timer);
  const ok = outcome === 'timeout' ? 0 : outcome.filter((r) => r.status === 'fulfilled').length;
  deps.log.debug({ stuck: stuck.length, queued: ok }, 'queued export requests (re)added to the export queue');
  return ok;
}
