import { and, eq, sql } from 'drizzle-orm';
import type { AlertDeps, AlertPager, ChangeResult } from '../alerts/change.js';
import { hospitalSettings } from '../alerts/create.js';
import { publishEvent } from '../alerts/events.js';
import { recordPageResponse } from '../alerts/pages.js';
import { hasLevelAbove } from '../alerts/policy.js';
import type { Alert, AlertEvent } from '../alerts/schemas.js';
import { escalateAlert, systemAudit } from '../alerts/transitions.js';
import { alerts, type hospitalCodes, hospitals } from '../db/schema.js';
import { type EscalationTarget, type HospitalSettings, readSettings } from '../hospitals/settings.js';
import { planSteps } from '../notifications/steps.js';
import { levelTargets, resolveTargets } from './targets.js';

type HospitalCode = (typeof hospitalCodes)[number];

/** What clarion_page_level (migration 0012) answers when it paged: the event, the version it saw, whether nobody was found. */
type Paged = { event: AlertEvent; version: number; gap: boolean };

/**
 * Pages one level of one alert, exactly once: resolves its targets to people *now*, then one statement
 * (clarion_page_level) writes a page per person and a `paged` event — or, when nobody is found, a
 * `coverage_gap` event — under the same guards that make it exactly once: the alert row FOR SHARE
 * (an acknowledgement or escalation committing meanwhile waits for it, or has won and nothing is paged),
 * the level still the alert's current one on an active alert, and the (alert, level) marker whose
 * primary key lets one attempt through — the server's right after the commit, or the sweeper's when
 * the server died in between. On a gap it escalates at once rather than wait out a timer with nobody called.
 */
export async function pageLevel(deps: AlertDeps, alertId: string, level: number): Promise<'paged' | 'coverage_gap' | 'skipped'> {
  const [a] = await deps.db
    .select({ hospitalId: alerts.hospitalId, departmentId: alerts.departmentId, roomNumber: alerts.roomNumber, priority: alerts.priority, code: alerts.code, settings: hospitals.settings })
    .from(alerts)
    .innerJoin(hospitals, eq(hospitals.id, alerts.hospitalId))
    .where(
      and(
        eq(alerts.id, alertId),
        eq(alerts.status, 'active'),
        eq(alerts.escalationLevel, level),
        sql`NOT EXISTS (SELECT 1 FROM alert_level_pagings m WHERE m.alert_id = ${alertId} AND m.level = ${level})`,
      ),
    );
  if (!a) return 'skipped';
  const settings = readSettings(a.settings);
  const targets = alertTargets(settings, a, level);
  if (!targets) return 'skipped';
  const recipients = await resolveTargets(deps.db, a, targets, new Date(), settings.timezone ?? deps.config.defaultTimezone);
  // Each person's channel steps ride in the same statement: the outbox rows commit with the pages.
  const plan = await planSteps(deps.db, a.hospitalId, recipients.map((r) => r.userId), a.priority, settings.notificationDefaults);
  const payload = { alertId, level, recipients: recipients.map((r) => ({ ...r, steps: plan.get(r.userId) ?? [] })), targets: targets.map((t) => t.kind) };
  const { rows } = await deps.db.execute<{ r: Paged | null }>(sql`SELECT clarion_page_level(${JSON.stringify(payload)}::jsonb) AS r`);
  const outcome = rows[0]?.r;
  if (!outcome) return 'skipped';
  publishEvent(deps, outcome.event);
  if (outcome.gap && hasLevelAbove(settings, a.priority, level)) {
    // Guarded on the level and version the statement saw: a response or timer that got there first wins.
    await escalateAlert(deps, { hospitalId: a.hospitalId, departmentId: null }, systemAudit(a.hospitalId), alertId, 'coverage_gap', { escalationLevel: level, version: outcome.version });
  }
  return outcome.gap ? 'coverage_gap' : 'paged';
}

/**
 * A code's first level pages its code team (settings.codeTeams); every other level, and a code without
 * a team, the critical targets — and where the hospital has none, the head doctors: a code always pages.
 */
function alertTargets(settings: HospitalSettings, a: { priority: Alert['priority']; code: string | null }, level: number): EscalationTarget[] | null {
  if (!a.code) return levelTargets(settings, a.priority, level);
  const team = level === 0 ? settings.codeTeams?.[a.code as HospitalCode] : undefined;
  return team ?? levelTargets(settings, a.priority, level) ?? [{ kind: 'role', role: 'head_doctor' }];
}

/** Whether this hospital's cached settings page anyone at all for this alert (else nothing to do). */
async function mayPage(deps: AlertDeps, hospitalId: string, alert: Pick<Alert, 'priority' | 'code'>): Promise<boolean> {
  const { settings } = await hospitalSettings(deps.db, hospitalId);
  return alert.code !== null || settings.escalation[alert.priority].targets !== undefined;
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
    mayPage(deps, alert.hospitalId, alert)
      .then(async (yes) => {
        if (!yes) return;
        if (responder) await recordPageResponse(deps.db, alert.id, responder, declinedBy ? 'declined' : 'acknowledged');
        if (levelReached) await pageLevel(deps, alert.id, alert.escalationLevel);
      })
      .catch(log);
  },
};
