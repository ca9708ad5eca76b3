import { eq, sql } from 'drizzle-orm';
import { logAuditEvent } from '../audit/log.js';
import type { AlertDeps, AlertPager, ChangeResult } from '../alerts/change.js';
import { hospitalSettings } from '../alerts/create.js';
import { publishEvent, toWireEvent } from '../alerts/events.js';
import { recordPageResponse } from '../alerts/pages.js';
import { hasLevelAbove } from '../alerts/policy.js';
import type { AlertEvent } from '../alerts/schemas.js';
import { escalateAlert, systemAudit } from '../alerts/transitions.js';
import { alertEvents, alertLevelPagings, alertPages, hospitals } from '../db/schema.js';
import { readSettings } from '../hospitals/settings.js';
import { levelTargets, resolveTargets } from './targets.js';

type Outcome = { event: AlertEvent; gap: boolean; version: number; canEscalate: boolean } | null;

/**
 * Pages one level of one alert, exactly once: resolves its targets to people *now*, writes a page per
 * person and a `paged` event — or, when nobody is found, a `coverage_gap` event — then, on a gap,
 * escalates at once rather than wait out a timer with nobody called.
 * Exactly once: the alert row is read FOR SHARE (an acknowledgement or escalation committing meanwhile
 * waits for this, or this sees it and pages nobody), the level must still be the alert's current one
 * on an active alert, and the (alert, level) marker's primary key lets one attempt through — the
 * server's right after the commit, or the sweeper's when the server died in between.
 * Row locks first, the hospital lock last (the event and audit rows), as everywhere.
 */
export async function pageLevel(deps: AlertDeps, alertId: string, level: number): Promise<'paged' | 'coverage_gap' | 'skipped'> {
  const outcome: Outcome = await deps.db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ hospital_id: string; department_id: string; room_number: string | null; priority: 'low' | 'medium' | 'high' | 'critical'; status: string; escalation_level: number; version: number }>(
      sql`SELECT hospital_id, department_id, room_number, priority, status, escalation_level, version FROM alerts WHERE id = ${alertId} FOR SHARE`,
    );
    const a = rows[0];
    if (!a || a.status !== 'active' || a.escalation_level !== level) return null;
    const [h] = await tx.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, a.hospital_id));
    const settings = readSettings(h?.settings);
    const targets = levelTargets(settings, a.priority, level);
    if (!targets) return null;
    const marked = await tx.insert(alertLevelPagings).values({ alertId, level, hospitalId: a.hospital_id, pagedCount: 0 }).onConflictDoNothing().returning({ level: alertLevelPagings.level });
    if (!marked.length) return null;

    const place = { hospitalId: a.hospital_id, departmentId: a.department_id, roomNumber: a.room_number };
    const recipients = await resolveTargets(tx, place, targets, new Date(), settings.timezone ?? deps.config.defaultTimezone);
    if (recipients.length) {
      await tx
        .insert(alertPages)
        .values(recipients.map((r) => ({ hospitalId: a.hospital_id, alertId, userId: r.userId, level, target: r.target, targetDetail: r.detail })))
        .onConflictDoNothing();
      await tx.execute(sql`UPDATE alert_level_pagings SET paged_count = ${recipients.length} WHERE alert_id = ${alertId} AND level = ${level}`);
    }
    const gap = recipients.length === 0;
    const userIds = recipients.map((r) => r.userId);
    const detail = { level, userIds, targets: targets.map((t) => t.kind) };
    await tx.execute(sql`SELECT clarion_hospital_lock(${a.hospital_id})`);
    const [row] = await tx
      .insert(alertEvents)
      .values({
        hospitalId: a.hospital_id,
        departmentId: a.department_id,
        alertId,
        type: gap ? 'coverage_gap' : 'paged',
        actorId: null,
        alert: sql`clarion_alert_json(${alertId})`,
        detail,
        escalationLevel: level,
      })
      .returning();
    await logAuditEvent(tx, systemAudit(a.hospital_id), {
      action: gap ? 'alert.coverage_gap' : 'alert.paged',
      resource: 'alert',
      resourceId: alertId,
      metadata: { ...detail, eventId: String(row?.id) },
    });
    return { event: toWireEvent(row as typeof alertEvents.$inferSelect), gap, version: a.version, canEscalate: hasLevelAbove(settings, a.priority, level) };
  });
  if (!outcome) return 'skipped';
  publishEvent(deps, outcome.event);
  if (outcome.gap && outcome.canEscalate) {
    const h = outcome.event.alert.hospitalId;
    // Guarded on the level and version read: a response or timer that got there first wins.
    await escalateAlert(deps, { hospitalId: h, departmentId: null }, systemAudit(h), alertId, 'coverage_gap', { escalationLevel: level, version: outcome.version });
  }
  return outcome.gap ? 'coverage_gap' : 'paged';
}

/** Whether this hospital's cached settings page anyone at all for this priority (else nothing to do). */
async function mayPage(deps: AlertDeps, hospitalId: string, priority: keyof ReturnType<typeof readSettings>['escalation']): Promise<boolean> {
  const cached = await hospitalSettings(deps.db, hospitalId);
  return cached.settings.escalation[priority].targets !== undefined;
}

/**
 * The hook change.ts calls after every committed raise and change (server and worker alike): a new
 * alert or a level reached is paged; a paged person's acknowledgement or decline is noted on their
 * page. Never blocks or fails the caller; the sweeper repairs a page that did not happen
 * (pageMissedLevels). A stale settings cache only delays a page to that sweep.
 */
export const alertPager: AlertPager = {
  afterCommit(deps: AlertDeps, { alert, event }: ChangeResult): void {
    const log = (err: unknown) => deps.log.warn({ err: err instanceof Error ? err.message : err, alertId: alert.id }, 'paging step failed; the sweeper will repair it');
    const declinedBy = event.type === 'escalated' && (event.detail as { reason?: string } | null)?.reason === 'declined' ? event.actorId : null;
    const responder = event.type === 'acknowledged' ? event.actorId : declinedBy;
    const levelReached = alert.status === 'active' && (event.type === 'created' || event.type === 'escalated');
    if (!responder && !levelReached) return;
    mayPage(deps, alert.hospitalId, alert.priority)
      .then(async (yes) => {
        if (!yes) return;
        if (responder) await recordPageResponse(deps.db, alert.id, responder, declinedBy ? 'declined' : 'acknowledged');
        if (levelReached) await pageLevel(deps, alert.id, alert.escalationLevel);
      })
      .catch(log);
  },
};
