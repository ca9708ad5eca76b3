import { and, asc, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import { escalateAlert, expireAlert, reopenAfterAckTimeout } from '../../server/alerts/service.js';
import { alerts } from '../../server/db/schema.js';
import { maintenancePayload } from '../../server/jobs/queues.js';
import type { Processor } from '../registry.js';
import { systemAudit } from './timers.js';

// The timer normally fires first; the sweeper only repairs what it missed (Redis flushed, worker down).
const GRACE_SECONDS = 2;
const BATCH = 200;

/** Escalates and expires every alert whose deadline passed without its timer: at least once. */
export const sweepProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'sweep',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const due = await deps.db
      .select({ id: alerts.id, hospitalId: alerts.hospitalId, level: alerts.escalationLevel, version: alerts.version })
      .from(alerts)
      .where(and(sql`${alerts.status} = 'active'`, lte(alerts.nextEscalationAt, sql`now() - make_interval(secs => ${GRACE_SECONDS})`)))
      .orderBy(asc(alerts.nextEscalationAt))
      .limit(BATCH);
    let escalated = 0;
    for (const a of due) {
      const r = await escalateAlert(deps, { hospitalId: a.hospitalId, departmentId: null }, systemAudit(a.hospitalId), a.id, 'timeout', {
        escalationLevel: a.level,
        version: a.version,
      }).catch(() => null);
      if (r) escalated++;
    }
    const expiring = await deps.db
      .select({ id: alerts.id, hospitalId: alerts.hospitalId })
      .from(alerts)
      .where(and(inArray(alerts.status, ['active', 'acknowledged']), isNotNull(alerts.expiresAt), lte(alerts.expiresAt, sql`now() - make_interval(secs => ${GRACE_SECONDS})`)))
      .limit(BATCH);
    let expired = 0;
    for (const a of expiring) if (await expireAlert(deps, a.hospitalId, a.id).catch(() => null)) expired++;
    const lapsed = await deps.db
      .select({ id: alerts.id, hospitalId: alerts.hospitalId, version: alerts.version })
      .from(alerts)
      .where(and(sql`${alerts.status} = 'acknowledged'`, lte(alerts.ackDeadlineAt, sql`now() - make_interval(secs => ${GRACE_SECONDS})`)))
      .limit(BATCH);
    let reopened = 0;
    for (const a of lapsed) if (await reopenAfterAckTimeout(deps, a.hospitalId, a.id, a.version).catch(() => null)) reopened++;
    if (escalated || expired || reopened) log.warn({ escalated, expired, reopened }, 'sweeper repaired missed timers');
    return { escalated, expired, reopened };
  },
};
