import { and, eq, inArray, sql } from 'drizzle-orm';
import type { AuditContext } from '../../audit/log.js';
import { type AlertDeps, changeAlert, NOW } from '../../alerts/change.js';
import { createAlertInput } from '../../alerts/schemas.js';
import { createAlert } from '../../alerts/service.js';
import { alerts, hl7Sources, openAlertStatuses } from '../../db/schema.js';
import { type AlarmReport, Hl7Reject, readOruR40 } from './mapping.js';
import { buildAck, type Hl7Message, Hl7ParseError, parseHl7 } from './message.js';

type Source = typeof hl7Sources.$inferSelect;

/**
 * One inbound message → its ACK. AR (rejected, nothing written): unparseable, not ORU^R40, a required
 * field missing. AE (nothing written): unknown or inactive sending facility, an unmapped point of care,
 * or Clarion failing to store it (the sender should retry). AA: every alarm raised, folded or resolved.
 */
export async function handleHl7Message(deps: AlertDeps, text: string, ip: string | null): Promise<string> {
  let msg: Hl7Message;
  try {
    msg = parseHl7(text);
  } catch (err) {
    if (err instanceof Hl7ParseError) return buildAck(null, 'AR', { code: 100, text: err.message });
    throw err;
  }
  let report: ReturnType<typeof readOruR40>;
  try {
    report = readOruR40(msg);
  } catch (err) {
    if (err instanceof Hl7Reject) return buildAck(msg, 'AR', { code: err.code, text: err.message });
    throw err;
  }
  const [source] = await deps.db.select().from(hl7Sources).where(eq(hl7Sources.sendingFacility, report.sendingFacility));
  if (!source) return buildAck(msg, 'AE', { code: 103, text: `Unknown sending facility ${report.sendingFacility.slice(0, 60)}` });
  if (!source.isActive) return buildAck(msg, 'AE', { code: 103, text: `Source ${source.name} is inactive` });
  // Own keys only: a point of care named "constructor" must not find Object.prototype's.
  const map = source.departments as Record<string, string>;
  const departmentId = Object.hasOwn(map, report.pointOfCare) ? map[report.pointOfCare] : undefined;
  if (!departmentId) return buildAck(msg, 'AE', { code: 103, text: `Point of care ${report.pointOfCare.slice(0, 60)} is not mapped to a department` });

  const audit: AuditContext = { userId: null, hospitalId: source.hospitalId, ip, userAgent: `hl7:${source.name}`, sessionId: null };
  // Validate every alarm before writing any, so a bad second alarm does not leave the first raised.
  const inputs = report.alarms.map((a) => ({ alarm: a, input: createAlertInput.safeParse({ title: a.title, description: a.description, priority: a.priority, alertType: a.alertType, departmentId, roomNumber: report.roomNumber }) }));
  const bad = inputs.find((i) => !i.input.success);
  if (bad && !bad.input.success) return buildAck(msg, 'AR', { code: 102, text: `Alarm ${bad.alarm.externalId.slice(0, 40)}: ${bad.input.error.issues[0]?.message ?? 'invalid'}` });
  try {
    for (const { alarm, input } of inputs) {
      if (alarm.cleared) await resolveCleared(deps, source, audit, alarm);
      else if (input.success) await createAlert(deps, null, audit, { ...input.data, hospitalId: source.hospitalId, source: `hl7:${source.name}`, externalId: alarm.externalId });
    }
    await deps.db.update(hl7Sources).set({ lastMessageAt: sql`now()` }).where(eq(hl7Sources.id, source.id));
  } catch (err) {
    deps.log.error({ err, source: source.name, controlId: report.controlId }, 'hl7: could not store an alarm');
    return buildAck(msg, 'AE', { code: 207, text: 'Clarion could not store the alarm; send it again' });
  }
  return buildAck(msg, 'AA');
}

/** The open alert this alarm raised, resolved by the feed (resolvedBy null: no user did it). A cleared alarm with no open alert is fine. */
async function resolveCleared(deps: AlertDeps, source: Source, audit: AuditContext, alarm: AlarmReport): Promise<void> {
  const [open] = await deps.db
    .select({ id: alerts.id })
    .from(alerts)
    .where(and(eq(alerts.hospitalId, source.hospitalId), eq(alerts.source, `hl7:${source.name}`), eq(alerts.externalId, alarm.externalId), inArray(alerts.status, [...openAlertStatuses])));
  if (!open) return;
  await changeAlert(deps, { hospitalId: source.hospitalId, departmentId: null }, audit, open.id, {
    action: 'resolved',
    events: () => [{ type: 'resolved', detail: { by: `hl7:${source.name}`, reason: 'alarm cleared' } }],
    from: openAlertStatuses,
    metadata: { source: `hl7:${source.name}`, externalId: alarm.externalId },
    set: () => ({ status: 'resolved', resolvedBy: null, resolvedAt: NOW, nextEscalationAt: null, ackDeadlineAt: null }),
  });
}
