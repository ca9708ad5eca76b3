import { unlink } from 'node:fs/promises';
import { and, eq, lt, sql } from 'drizzle-orm';
import { recordAnchors } from '../../server/audit/anchor.js';
import { forgetStaleFailures } from '../../server/auth/lockout.js';
import { auditExports, hospitals } from '../../server/db/schema.js';
import { maintenancePayload } from '../../server/jobs/queues.js';
import { forgetOldIdempotencyKeys } from '../../server/rest/idempotency.js';
import type { Processor } from '../registry.js';

/**
 * Deletes audit rows past retention_until, oldest first, in batches, only through audit_purge()
 * (the one privileged path), which records each chain's anchor so it stays verifiable.
 */
export const auditRetentionProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'audit-retention',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const { rows: chains } = await deps.db.execute<{ chain_id: string }>(sql`SELECT DISTINCT chain_id FROM audit_logs WHERE retention_until < now()`);
    let purged = 0;
    for (const { chain_id } of chains) {
      for (;;) {
        const { rows } = await deps.db.execute<{ n: number }>(sql`SELECT audit_purge(${chain_id}, ${deps.config.worker.auditPurgeBatch}) AS n`);
        const n = Number(rows[0]?.n ?? 0);
        purged += n;
        if (n < deps.config.worker.auditPurgeBatch) break;
      }
    }
    if (purged) log.info({ purged, chains: chains.length }, 'audit rows past retention purged');
    return { purged };
  },
};

/**
 * Anchors every audit chain's head (HMAC with AUDIT_ANCHOR_KEY, server/audit/anchor.ts). A BullMQ
 * schedule is enough here, unlike the sweeper: a missed or late anchor (Redis down) only delays when
 * a truncation becomes detectable; it never loses audit rows or an escalation.
 */
export const auditAnchorProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'audit-anchor',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    return recordAnchors(deps.db, deps.config.secrets.auditAnchorKey, log, deps.config.secrets.auditAnchorPreviousKeys);
  },
};

/** Forgets sign-in failure counts that no longer count (server/auth/lockout.ts decides which). */
export const loginFailureCleanupProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'login-failure-cleanup',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const removed = await forgetStaleFailures(deps.db);
    if (removed) log.info({ removed }, 'stale sign-in failure counts forgotten');
    return { removed };
  },
};

/** Forgets REST Idempotency-Key answers older than a day (a retry that late is a new request). */
export const idempotencyCleanupProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'idempotency-cleanup',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const removed = await forgetOldIdempotencyKeys(deps.db);
    if (removed) log.info({ removed }, 'old Idempotency-Key answers forgotten');
    return { removed };
  },
};

/** Removes export files past their expiry and marks the exports expired. */
export const exportCleanupProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'export-cleanup',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const expired = await deps.db
      .update(auditExports)
      .set({ status: 'expired' })
      .where(and(eq(auditExports.status, 'completed'), lt(auditExports.expiresAt, sql`now()`)))
      .returning({ id: auditExports.id, filePath: auditExports.filePath });
    for (const e of expired) if (e.filePath) await unlink(e.filePath).catch(() => undefined);
    if (expired.length) log.info({ removed: expired.length }, 'expired export files removed');
    return { removed: expired.length };
  },
};

const EVENT_BATCH = 10_000;

/**
 * Prunes alert_events older than EVENT_RETENTION_DAYS, oldest first, and records the highest id
 * removed per hospital: a subscriber resuming from below it gets PRECONDITION_FAILED and reloads.
 * The audit log keeps the full history; this is only the replay log.
 */
export const eventRetentionProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'event-retention',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const days = deps.config.events.retentionDays;
    const list = await deps.db.select({ id: hospitals.id }).from(hospitals);
    let pruned = 0;
    for (const h of list) {
      const { rows } = await deps.db.execute<{ cut: string | null }>(
        sql`SELECT max(id)::text AS cut FROM alert_events WHERE hospital_id = ${h.id} AND occurred_at < now() - make_interval(days => ${days})`,
      );
      const cut = rows[0]?.cut ? Number(rows[0].cut) : 0;
      if (!cut) continue;
      // Watermark first: a resume from a pruned id is refused before the rows disappear.
      await deps.db.execute(sql`UPDATE hospitals SET events_pruned_through = greatest(events_pruned_through, ${cut}) WHERE id = ${h.id}`);
      for (;;) {
        const deleted = await deps.db.execute(sql`
          DELETE FROM alert_events WHERE id IN (
            SELECT id FROM alert_events WHERE hospital_id = ${h.id} AND id <= ${cut} ORDER BY id LIMIT ${EVENT_BATCH})`);
        pruned += deleted.rowCount ?? 0;
        if ((deleted.rowCount ?? 0) < EVENT_BATCH) break;
      }
    }
    if (pruned) log.info({ pruned, days }, 'alert events past retention pruned');
    return { pruned };
  },
};
