import { and, eq, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent, scrub } from '../audit/log.js';
import { type Database, isRetryableTransactionError } from '../db/client.js';
import type { alertStatuses, escalationReasons, priorities } from '../db/enums.js';
import { alerts } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { HospitalSettings } from '../hospitals/settings.js';
import { type CachedSettings, hospitalSettings, SETTINGS_CHANGED, sqlState } from './create.js';
import { type EventType, publishEvent } from './events.js';
import { alertQueue, writeGate } from './gate.js';
import type { Alert, AlertEvent } from './schemas.js';
import { type AlertScope, scopeWhere } from './visibility.js';

type AlertRow = typeof alerts.$inferSelect;
type Status = (typeof alertStatuses)[number];

/** What the worker plugs in to keep escalation and expiry timers in step with each change. */
export interface AlertTimers {
  afterChange(alert: Alert): Promise<void>;
}

/** What pages people after a raise or a level reached (server/paging/pager.ts), plugged in by deps.ts. */
export interface AlertPager {
  afterCommit(deps: AlertDeps, result: ChangeResult): void;
}

export type AlertDeps = Pick<AppDeps, 'db' | 'redis' | 'config' | 'log' | 'metrics'> & { timers?: AlertTimers; pager?: AlertPager };

/** A timestamp taken from Postgres's clock when the change commits: `afterNow` seconds after now(). */
export type At = null | { afterNow: number };
export const NOW: At = { afterNow: 0 };

/** The columns a change may set (clarion_change_alert, migrations/0011); `version` and `updatedAt` are bumped there. */
export interface ChangeSet {
  status?: Status;
  title?: string;
  description?: string | null;
  roomNumber?: string | null;
  priority?: (typeof priorities)[number];
  escalationLevel?: number;
  acknowledgedBy?: string | null;
  acknowledgedAt?: At;
  resolvedBy?: string | null;
  resolvedAt?: At;
  cancelledBy?: string | null;
  cancelledAt?: At;
  ackDeadlineAt?: At;
  shelvedUntil?: At;
  shelvedBy?: string | null;
  shelveReason?: string | null;
  /** `levelStart`: seconds after the alert reached its current level, never before now (a priority change). */
  nextEscalationAt?: At | { levelStart: number };
}

export interface ChangeContext {
  /** The hospital's merged settings, cached; the function refuses the change if they changed since (CLR02). */
  settings(): Promise<HospitalSettings>;
}

export interface ChangeSpec {
  /** Audit action suffix: alert.<action>. */
  action: string;
  /** The events the change emits, in order; `escalated` tells whether the level went up. */
  events: (row: AlertRow, escalated: boolean) => { type: EventType; detail?: Record<string, unknown> }[];
  /** Statuses the change may start from; the guarded UPDATE re-checks them. */
  from: readonly Status[];
  /** Record-dependent permission check on a visible alert (throws FORBIDDEN). */
  authorize?: (row: AlertRow) => void;
  /** Extra guard for the UPDATE (the worker's level and version). A miss is a silent no-op, not CONFLICT. */
  expect?: { escalationLevel: number; version: number };
  /** Column values computed from the row as read; may run again on a fresher row, so it must not keep state between runs. */
  set: (row: AlertRow, ctx: ChangeContext) => Promise<ChangeSet> | ChangeSet;
  /** Recorded in alert_escalations when `set` raises the level. */
  escalationReason?: (typeof escalationReasons)[number];
  metadata?: Record<string, unknown>;
  /** A Responding press on a code: recorded once per person in the same statement (else CONFLICT). */
  responder?: { userId: string };
}

export interface ChangeResult {
  alert: Alert;
  event: AlertEvent;
}

/** clarion_change_alert's refusal: the row is no longer the one read (version, status or scope). */
const ROW_CHANGED = 'CLR03';
/** clarion_change_alert's refusal of a second Responding press by the same person. */
const ALREADY_RESPONDING = 'CLR04';
/** Reads and sends of one change before a row that keeps moving under it is answered CONFLICT. */
const ATTEMPTS = 5;

/**
 * The one event path for a change to an existing alert. The rules run in Node on the row as read
 * (no transaction, no lock), then one autocommit statement (clarion_change_alert) does the guarded
 * UPDATE, the escalation row, the alert JSON, and under the hospital lock the event and audit rows.
 * A row that changed between the read and the statement is read again and the change recomputed;
 * changes of one alert on this instance queue one behind the other (alertQueue), so that happens
 * only when another instance, a raise or a hand-made edit got there first.
 * After commit: the Redis wake-up and the timers. Refusals are audited in their own statement.
 * Returns null when an `expect` guard no longer matches (a timer that lost its race).
 */
export async function changeAlert(deps: AlertDeps, scope: AlertScope, audit: AuditContext, alertId: string, spec: ChangeSpec): Promise<ChangeResult | null> {
  let result: ChangeResult | null;
  try {
    result = await alertQueue(deps.db).run(alertId, () => runChange(deps, scope, audit, alertId, spec));
  } catch (err) {
    if (err instanceof AppError && (err.code === 'FORBIDDEN' || err.code === 'CONFLICT')) {
      await logAuditEvent(deps.db, audit, {
        action: `alert.${spec.action}`,
        resource: 'alert',
        resourceId: alertId,
        outcome: 'failure',
        metadata: { reason: err.message },
      }).catch((e) => deps.log.error({ err: e }, 'could not audit a refused alert change'));
    }
    throw err;
  }
  if (result) afterCommit(deps, result);
  return result;
}

async function runChange(deps: AlertDeps, scope: AlertScope, audit: AuditContext, alertId: string, spec: ChangeSpec): Promise<ChangeResult | null> {
  let staleSettings: CachedSettings | undefined;
  let deadlocks = 0;
  for (let attempt = 1; ; attempt++) {
    const [row] = await deps.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.id, alertId), scopeWhere(scope, alerts)));
    if (!row) throw notFound('Alert');
    spec.authorize?.(row);
    const stale = spec.expect && (row.escalationLevel !== spec.expect.escalationLevel || row.version !== spec.expect.version);
    if (stale || (spec.expect && !spec.from.includes(row.status))) return null;
    if (!spec.from.includes(row.status)) throw conflict(`The alert is already ${row.status}`);

    let used: Promise<CachedSettings> | undefined;
    const refused = staleSettings;
    const values = await spec.set(row, {
      settings: async () => {
        used ??= hospitalSettings(deps.db, row.hospitalId, refused);
        return (await used).settings;
      },
    });
    const settings = used && (await used);
    const toLevel = values.escalationLevel ?? row.escalationLevel;
    const escalated = toLevel > row.escalationLevel;
    const escalation = escalated ? { toLevel, reason: spec.escalationReason ?? 'manual' } : undefined;
    const payload = {
      alertId,
      hospitalId: row.hospitalId,
      // The function re-checks the department scope; an alert seen through a page (another department)
      // was checked by the read above, and a page is never taken back, so it goes as hospital-wide.
      departmentId: row.departmentId === scope.departmentId ? scope.departmentId : null,
      version: row.version,
      from: spec.from,
      set: values,
      escalation: escalation ? { fromLevel: row.escalationLevel, ...escalation } : null,
      // Read after `set`, which may decide what the change is recorded as (escalateAlert).
      events: spec.events(row, escalated),
      action: `alert.${spec.action}`,
      metadata: scrub({ from: row.status, to: values.status ?? row.status, level: toLevel, ...escalation, ...spec.metadata }),
      audit,
      ...(settings ? { settingsHash: settings.hash } : {}),
      ...(spec.responder ? { responder: spec.responder } : {}),
    };
    try {
      return await writeGate(deps.db, deps.config.database.poolMax).run(() => writeChange(deps.db, payload));
    } catch (err) {
      const code = sqlState(err);
      if (code === ALREADY_RESPONDING) throw conflict('You are already responding to this code');
      // The timer's version is the one read: a row that moved on is a timer that lost its race.
      if (code === ROW_CHANGED && spec.expect) return null;
      // A deadlock or serialization failure is sent once more, as the transaction helper does (db/client.ts).
      const deadlocked = isRetryableTransactionError(err) && deadlocks++ === 0;
      if (!(code === ROW_CHANGED || code === SETTINGS_CHANGED || deadlocked)) throw err;
      if (attempt >= ATTEMPTS) throw code === ROW_CHANGED ? conflict('The alert changed meanwhile; reload and try again') : err;
      staleSettings = code === SETTINGS_CHANGED ? settings : undefined;
    }
  }
}

async function writeChange(db: Database, payload: Record<string, unknown> & { action: string }): Promise<ChangeResult> {
  const { rows } = await db.execute<{ r: { alert: Alert; events: AlertEvent[] } }>(sql`SELECT clarion_change_alert(${JSON.stringify(payload)}::jsonb) AS r`);
  const { alert, events } = (rows[0] as { r: { alert: Alert; events: AlertEvent[] } }).r;
  const event = events[events.length - 1];
  if (!event) throw new Error(`change ${payload.action} emitted no event`);
  return { alert, event };
}

/** Publish, reschedule and page after commit; none may fail or block the caller. */
export function afterCommit(deps: AlertDeps, result: ChangeResult): void {
  publishEvent(deps, result.event);
  deps.pager?.afterCommit(deps, result);
  deps.timers?.afterChange(result.alert).catch((err) => {
    deps.log.warn({ err: err instanceof Error ? err.message : err, alertId: result.alert.id }, 'timer not rescheduled; the sweeper will catch up');
  });
}
