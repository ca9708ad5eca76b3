import { and, asc, inArray, isNotNull, lte, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { escalateAlert, expireAlert, reopenAfterAckTimeout } from '../../server/alerts/service.js';
import { unshelveWhenDue } from '../../server/alerts/shelving.js';
import { createPool } from '../../server/db/client.js';
import { alerts, openAlertStatuses } from '../../server/db/schema.js';
import type { AppDeps } from '../../server/deps.js';
import { AppError } from '../../server/errors.js';
import { requeueStuckExports } from '../../server/exports/requeue.js';
import { pageMissedLevels } from '../../server/paging/repair.js';
import type { Logger } from '../../server/logger.js';
import { type Loop, startLoop } from '../loop.js';
import { systemAudit } from './timers.js';

// The timer normally fires first; the sweeper only repairs what it missed (Redis flushed, worker
// down). While Redis is down no timer can fire, so the sweeper acts at the deadline itself.
const GRACE_SECONDS = 2;
const BATCH = 200;
/** The server pages right after its commit; the sweeper pages a level only once that has clearly not happened. */
const PAGE_GRACE_SECONDS = 3;
/** One sweeper at a time across every worker of this database (advisory locks are per database). */
export const SWEEP_LOCK_KEY = 'clarion:sweeper';

type Due = { id: string; hospitalId: string; level: number; version: number; at: string };

/**
 * Every alert whose `column` deadline passed, in deadline order, a page at a time. Paging on
 * (deadline, id) means an alert the sweeper cannot act on is passed over, never re-read in the same
 * sweep: however many there are, they cannot fill the batch and starve the alerts behind them.
 */
async function forEachDue(deps: AppDeps, column: PgColumn, where: SQL, graceSeconds: number, act: (a: Due) => Promise<unknown>): Promise<{ done: number; failed: number; firstError?: string }> {
  const tally: { done: number; failed: number; firstError?: string } = { done: 0, failed: 0 };
  let after: Due | undefined;
  for (;;) {
    const page = await deps.db
      .select({ id: alerts.id, hospitalId: alerts.hospitalId, level: alerts.escalationLevel, version: alerts.version, at: sql<string>`${column}::text` })
      .from(alerts)
      .where(
        and(
          where,
          lte(column, sql`now() - make_interval(secs => ${graceSeconds})`),
          after ? sql`(${column}, ${alerts.id}) > (${after.at}::timestamptz, ${after.id})` : undefined,
        ),
      )
      .orderBy(asc(column), asc(alerts.id))
      .limit(BATCH);
    for (const a of page) {
      try {
        if (await act(a)) tally.done++;
      } catch (err) {
        // Gone or changed since it was read (a response won the race): nothing left to repair.
        if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')) continue;
        tally.failed++;
        tally.firstError ??= `${a.id}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    if (page.length < BATCH) return tally;
    after = page[page.length - 1];
  }
}

/** Escalates, expires and reopens every alert whose deadline passed without its timer: at least once. */
export async function repairMissedTimers(deps: AppDeps, log: Logger) {
  const grace = deps.redis.status === 'ready' ? GRACE_SECONDS : 0;
  const scope = (hospitalId: string) => ({ hospitalId, departmentId: null });
  const escalated = await forEachDue(deps, alerts.nextEscalationAt, sql`${alerts.status} = 'active'`, grace, (a) =>
    escalateAlert(deps, scope(a.hospitalId), systemAudit(a.hospitalId), a.id, 'timeout', { escalationLevel: a.level, version: a.version }).then(
      (r) => r?.event.type === 'escalated',
    ),
  );
  const expired = await forEachDue(deps, alerts.expiresAt, and(inArray(alerts.status, [...openAlertStatuses]), isNotNull(alerts.expiresAt)) as SQL, grace, (a) =>
    expireAlert(deps, a.hospitalId, a.id),
  );
  const reopened = await forEachDue(deps, alerts.ackDeadlineAt, sql`${alerts.status} = 'acknowledged'`, grace, (a) => reopenAfterAckTimeout(deps, a.hospitalId, a.id, a.version));
  const unshelved = await forEachDue(deps, alerts.shelvedUntil, sql`${alerts.status} = 'shelved'`, grace, (a) => unshelveWhenDue(deps, a.hospitalId, a.id, a.version));
  const requeuedExports = await requeueStuckExports(deps).catch(() => 0);
  const paged = await pageMissedLevels(deps, PAGE_GRACE_SECONDS).catch((err: Error) => {
    log.error({ err: err.message }, 'sweeper could not page missed levels');
    return 0;
  });
  const counts = { escalated: escalated.done, expired: expired.done, reopened: reopened.done, unshelved: unshelved.done, paged, requeuedExports };
  const failed = escalated.failed + expired.failed + reopened.failed + unshelved.failed;
  if (failed) log.error({ ...counts, failed, firstError: escalated.firstError ?? expired.firstError ?? reopened.firstError ?? unshelved.firstError }, 'sweeper could not repair some alerts');
  if (counts.escalated || counts.expired || counts.reopened || counts.unshelved || counts.paged) log.warn({ ...counts, redis: deps.redis.status }, 'sweeper repaired missed timers');
  return { ...counts, failed };
}

/**
 * One sweep, if no other worker is sweeping. The lock is a transaction-level advisory lock on a
 * connection held for the sweep: a worker that dies loses its connection and so the lock at once,
 * and one that hangs mid-sweep is cut off by Postgres (idle_in_transaction_session_timeout on that
 * session), so another worker takes over on its next tick. Two sweeps overlapping after such a
 * take-over are still safe: every change is a guarded UPDATE (level and version), at most once.
 * The lock's connection comes from `lockPool` (one connection of its own), so a sweep never holds
 * one of the connections its own escalations and the timers need. Returns null when another
 * worker holds the lock.
 */
export async function sweepOnce(deps: AppDeps, lockPool: pg.Pool, log: Logger): Promise<Awaited<ReturnType<typeof repairMissedTimers>> | null> {
  const client = await lockPool.connect();
  // A checked-out client has no error listener: without this a dropped connection would crash the worker.
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    const holdMs = Math.max(60_000, deps.config.worker.sweepIntervalMs * 10);
    await client.query('BEGIN');
    await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${holdMs}`);
    const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS got', [SWEEP_LOCK_KEY]);
    if (!rows[0]?.got) return null;
    return await repairMissedTimers(deps, log);
  } finally {
    await client.query('COMMIT').catch((err: Error) => {
      broken ??= err;
    });
    client.off('error', onError);
    client.release(broken);
  }
}

/** The sweeper on the worker's own timer, every SWEEP_INTERVAL_MS: escalations stay on time with Redis down. */
export function startSweeper(deps: AppDeps): Loop {
  const log = deps.log.child({ loop: 'sweeper' });
  const lockPool = createPool({ database: { ...deps.config.database, poolMin: 0 } }, { max: 1 });
  lockPool.on('error', (err) => log.debug({ err: err.message }, 'sweeper lock connection lost'));
  const loop = startLoop('sweeper', deps.config.worker.sweepIntervalMs, log, () => sweepOnce(deps, lockPool, log));
  return {
    async stop() {
      await loop.stop();
      await lockPool.end();
    },
  };
}
