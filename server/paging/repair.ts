import { sql } from 'drizzle-orm';
import type { AlertDeps } from '../alerts/change.js';
import { escalateAlert, systemAudit } from '../alerts/transitions.js';
import { pageLevel } from './pager.js';

const BATCH = 200;

/**
 * The sweeper's half of "every level is paged at least once": active alerts whose priority has
 * targets and whose current level has no paging marker, a few seconds after they got there (the
 * server pages right after its commit; this is for a server that died in between, or a stale
 * settings cache). pageLevel's marker makes a race with the server's own attempt a no-op.
 */
export async function pageMissedLevels(deps: AlertDeps, graceSeconds: number): Promise<number> {
  const { rows } = await deps.db.execute<{ id: string; level: number }>(sql`
    SELECT a.id, a.escalation_level AS level
    FROM alerts a JOIN hospitals h ON h.id = a.hospital_id
    WHERE a.status = 'active'
      AND (h.settings->'escalation'->(a.priority::text) ? 'targets'
        OR a.code IS NOT NULL)
      AND a.updated_at <= now() - make_interval(secs => ${graceSeconds})
      AND NOT EXISTS (SELECT 1 FROM alert_level_pagings p WHERE p.alert_id = a.id AND p.level = a.escalation_level)
    ORDER BY a.updated_at
    LIMIT ${BATCH}`);
  let paged = 0;
  for (const r of rows) if ((await pageLevel(deps, r.id, r.level)) !== 'skipped') paged++;
  return paged;
}

/**
 * A deactivated user's open pages escalate on: every active alert whose current level paged them and
 * no one else still active and unanswered goes up a level now (guarded on level and version, so a
 * response or timer that got there first wins). Called after the deactivation commits.
 */
export async function escalatePagesOf(deps: AlertDeps, hospitalId: string, userId: string): Promise<number> {
  const { rows } = await deps.db.execute<{ id: string; level: number; version: number }>(sql`
    SELECT a.id, a.escalation_level AS level, a.version
    FROM alerts a JOIN alert_pages p ON p.alert_id = a.id AND p.level = a.escalation_level AND p.user_id = ${userId}
    WHERE a.hospital_id = ${hospitalId} AND a.status = 'active'
      AND NOT EXISTS (
        SELECT 1 FROM alert_pages o JOIN users u ON u.id = o.user_id
        WHERE o.alert_id = a.id AND o.level = a.escalation_level AND o.user_id <> ${userId} AND u.is_active AND o.response IS NULL)`);
  let escalated = 0;
  for (const r of rows) {
    const result = await escalateAlert(deps, { hospitalId, departmentId: null }, systemAudit(hospitalId), r.id, 'no_response', { escalationLevel: r.level, version: r.version }).catch(() => null);
    if (result?.event.type === 'escalated') escalated++;
  }
  return escalated;
}
