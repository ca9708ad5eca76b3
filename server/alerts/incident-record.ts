import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { isoMicros, type JsonValue } from '../audit/chain.js';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { alertEscalations, alertEvents, alertPages, alertReceipts, alerts, contacts, pageAttempts, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, notFound } from '../errors.js';
import { getHospital } from '../hospitals/service.js';
import { maskAddress } from '../notifications/verification.js';
import type { Actor } from '../permissions.js';
import { INCIDENT_RECORD_FORMAT, type IncidentAuditEntry, type IncidentRecord, incidentRecordSchema } from './incident-schemas.js';
import { sha256Hex, signRecord } from './incident-signing.js';
import { maskNumbers, pageReason } from './pages.js';
import { selectAlerts } from './queries.js';
import type { Page } from './schemas.js';
import { alertScope, scopeWhere } from './visibility.js';

/**
 * alerts.incidentRecord (issue 19, DESIGN.md "Alarm management"): everything that happened to one
 * alert, read in one snapshot, each audited step with its chain seq and hash, signed with
 * INCIDENT_SIGNING_KEY (Ed25519) so a risk team can prove later that the copy they hold is the one we
 * gave and that it agrees with the audit chain (npm run incident:verify). The export is audited with
 * the document's SHA-256, so the audit log also says which record was handed out.
 */

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

type AuditRow = {
  id: string;
  chain_id: string;
  seq: string;
  user_id: string | null;
  hospital_id: string | null;
  action: string;
  resource: string | null;
  resource_id: string | null;
  outcome: 'success' | 'failure';
  ip_address: string | null;
  user_agent: string | null;
  session_id: string | null;
  metadata: JsonValue | null;
  ts_us: string;
  ret_us: string;
  prev_hash: string;
  hash: string;
};

// Timestamps to the microsecond, as the chain hash covers them (a JS Date keeps milliseconds only).
const auditColumns = sql`id, chain_id, seq::text AS seq, user_id, hospital_id, action, resource, resource_id, outcome::text AS outcome,
  ip_address, user_agent, session_id, metadata,
  (extract(epoch FROM timestamp) * 1000000)::bigint::text AS ts_us, (extract(epoch FROM retention_until) * 1000000)::bigint::text AS ret_us,
  prev_hash, hash`;

function toEntry(r: AuditRow): IncidentAuditEntry {
  return {
    id: r.id,
    chainId: r.chain_id,
    seq: Number(r.seq),
    userId: r.user_id,
    hospitalId: r.hospital_id,
    action: r.action,
    resource: r.resource,
    resourceId: r.resource_id,
    outcome: r.outcome,
    ipAddress: r.ip_address,
    userAgent: r.user_agent,
    sessionId: r.session_id,
    metadata: r.metadata,
    timestamp: isoMicros(Number(r.ts_us)),
    retentionUntil: isoMicros(Number(r.ret_us)),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The audit rows about one alert, in chain order (audit_alert_resource_idx, migration 0020); none predates its raise. */
async function auditRowsOf(db: Tx, hospitalId: string, alertId: string, since: Date): Promise<IncidentAuditEntry[]> {
  const { rows } = await db.execute<AuditRow>(sql`SELECT ${auditColumns} FROM audit_logs
    WHERE hospital_id = ${hospitalId} AND timestamp >= ${new Date(since.getTime() - 60_000).toISOString()}
      AND resource = 'alert' AND resource_id = ${alertId}
    ORDER BY seq`);
  return rows.map(toEntry);
}

/** Live audit rows by id, in the record's shape (incident:verify compares a record with the database). */
export async function auditEntriesByIds(db: Tx, ids: string[]): Promise<Map<string, IncidentAuditEntry>> {
  if (!ids.length) return new Map();
  const { rows } = await db.execute<AuditRow>(sql`SELECT ${auditColumns} FROM audit_logs WHERE id = ANY(${`{${ids.join(',')}}`}::text[])`);
  return new Map(rows.map((r) => [r.id, toEntry(r)]));
}

async function readRecord(tx: Tx, actor: Actor, alertId: string, defaultTimezone: string): Promise<Omit<IncidentRecord, 'signature'>> {
  const [alert] = await selectAlerts(tx, and(eq(alerts.id, alertId), scopeWhere(alertScope(actor), alerts)));
  if (!alert) throw notFound('Alert');
  const hospitalId = alert.hospitalId;
  const [hospital, events, escalations, pages, attempts, receipts, audit] = await Promise.all([
    getHospital(tx, hospitalId, defaultTimezone),
    tx.select().from(alertEvents).where(eq(alertEvents.alertId, alertId)).orderBy(asc(alertEvents.id)),
    tx.select().from(alertEscalations).where(eq(alertEscalations.alertId, alertId)).orderBy(asc(alertEscalations.escalatedAt), asc(alertEscalations.id)),
    tx.select().from(alertPages).where(and(eq(alertPages.alertId, alertId), eq(alertPages.hospitalId, hospitalId))).orderBy(asc(alertPages.level), asc(alertPages.pagedAt), asc(alertPages.id)),
    tx
      .select({ a: pageAttempts, address: contacts.address })
      .from(pageAttempts)
      .leftJoin(contacts, eq(contacts.id, pageAttempts.contactId))
      .where(and(eq(pageAttempts.alertId, alertId), eq(pageAttempts.hospitalId, hospitalId)))
      .orderBy(asc(pageAttempts.createdAt), asc(pageAttempts.step), asc(pageAttempts.id)),
    tx.select().from(alertReceipts).where(eq(alertReceipts.alertId, alertId)).orderBy(asc(alertReceipts.deliveredAt), asc(alertReceipts.sessionId)),
    auditRowsOf(tx, hospitalId, alertId, new Date(alert.createdAt)),
  ]);

  // Each event's audit row carries the event id (clarion_create_alert, clarion_change_alert, paging).
  const auditByEvent = new Map<string, IncidentAuditEntry>();
  for (const e of audit) {
    const eventId = (e.metadata as { eventId?: unknown } | null)?.eventId;
    if (typeof eventId === 'string' && !auditByEvent.has(eventId)) auditByEvent.set(eventId, e);
  }
  // One change writes one audit row naming its last event: a decline that escalates is `declined` and
  // `escalated` in one statement (same occurred_at) under one row, which then covers both.
  for (let i = events.length - 2; i >= 0; i--) {
    const e = events[i]!;
    const next = events[i + 1]!;
    const covering = auditByEvent.get(String(next.id));
    if (!auditByEvent.has(String(e.id)) && covering && next.occurredAt.getTime() === e.occurredAt.getTime()) auditByEvent.set(String(e.id), covering);
  }
  const declines = events.filter((e) => e.type === 'declined');

  const userIds = new Set<string>([actor.id]);
  const add = (id: string | null | undefined) => id && userIds.add(id);
  for (const id of [alert.createdBy, alert.acknowledgedBy, alert.resolvedBy, alert.cancelledBy]) add(id);
  for (const e of events) add(e.actorId);
  for (const e of escalations) add(e.escalatedBy);
  for (const p of pages) add(p.userId);
  for (const r of receipts) add(r.userId);
  for (const e of audit) add(e.userId);
  const people = await tx
    .select({ id: users.id, name: users.name, role: users.role })
    .from(users)
    .where(and(eq(users.hospitalId, hospitalId), inArray(users.id, [...userIds])))
    .orderBy(asc(users.name), asc(users.id));
  const me = people.find((p) => p.id === actor.id);

  return {
    format: INCIDENT_RECORD_FORMAT,
    generatedAt: new Date().toISOString(),
    generatedBy: { id: actor.id, name: me?.name ?? actor.id, role: actor.role },
    hospital: { id: hospital.id, name: hospital.name, timezone: hospital.timezone },
    alert,
    people,
    events: events.map((e) => {
      const entry = auditByEvent.get(String(e.id));
      return {
        id: String(e.id),
        type: e.type,
        occurredAt: iso(e.occurredAt),
        actorId: e.actorId,
        escalationLevel: e.escalationLevel,
        detail: (e.detail as JsonValue | null) ?? null,
        alert: e.alert as Record<string, JsonValue>,
        audit: entry ? { chainId: entry.chainId, seq: entry.seq, hash: entry.hash } : null,
      };
    }),
    escalations: escalations.map((e) => ({ id: e.id, fromLevel: e.fromLevel, toLevel: e.toLevel, reason: e.reason, escalatedBy: e.escalatedBy, escalatedAt: iso(e.escalatedAt) })),
    pages: pages.map((p) => {
      // The person's decline nearest the page's answer carries the reason they gave.
      const answeredAt = p.respondedAt?.getTime() ?? 0;
      const decline =
        p.response === 'declined'
          ? declines.filter((e) => e.actorId === p.userId).sort((a, b) => Math.abs(a.occurredAt.getTime() - answeredAt) - Math.abs(b.occurredAt.getTime() - answeredAt))[0]
          : undefined;
      const reason = (decline?.detail as { reason?: unknown } | null)?.reason;
      return {
        id: p.id,
        userId: p.userId,
        level: p.level,
        target: p.target,
        reason: pageReason(p.target as Page['target'], p.targetDetail),
        targetDetail: (p.targetDetail as JsonValue | null) ?? null,
        pagedAt: iso(p.pagedAt),
        deliveredAt: isoOrNull(p.deliveredAt),
        readAt: isoOrNull(p.readAt),
        respondedAt: isoOrNull(p.respondedAt),
        response: p.response,
        declineReason: typeof reason === 'string' ? reason : null,
      };
    }),
    attempts: attempts.map(({ a, address }) => ({
      id: a.id,
      pageId: a.pageId,
      userId: a.userId,
      channel: a.channel,
      step: a.step,
      address: address === null ? null : maskAddress(a.channel, address),
      status: a.status,
      tries: a.tries,
      providerId: a.providerId,
      error: maskNumbers(a.error),
      dueAt: iso(a.dueAt),
      sentAt: isoOrNull(a.sentAt),
      deliveredAt: isoOrNull(a.deliveredAt),
      answeredAt: isoOrNull(a.answeredAt),
      answer: a.answer,
      createdAt: iso(a.createdAt),
      updatedAt: iso(a.updatedAt),
    })),
    receipts: receipts.map((r) => ({ userId: r.userId, sessionId: r.sessionId, deliveredAt: iso(r.deliveredAt), seenAt: isoOrNull(r.seenAt) })),
    audit,
  };
}

export async function incidentRecord(deps: Pick<AppDeps, 'db' | 'config'>, actor: Actor, auditCtx: AuditContext, alertId: string) {
  const key = deps.config.secrets.incidentSigningKey;
  if (!key) throw new AppError('PRECONDITION_FAILED', 'Incident records are not set up on this server (INCIDENT_SIGNING_KEY): ask your hospital’s IT team');
  // One snapshot: the events, pages and audit rows agree with each other as of one instant.
  const unsigned = await deps.db.transaction((tx) => readRecord(tx, actor, alertId, deps.config.defaultTimezone), { isolationLevel: 'repeatable read', accessMode: 'read only' });
  const { record, json } = signRecord(key, unsigned);
  // The shape is checked before anything is handed out (the output schema checks it again on the way).
  incidentRecordSchema.parse(record);
  const sha256 = sha256Hex(json);
  await logAuditEvent(deps.db, auditCtx, {
    action: 'alert.incident_record_exported',
    resource: 'alert',
    resourceId: alertId,
    metadata: { sha256, keyId: record.signature.keyId, events: record.events.length, auditEntries: record.audit.length },
  });
  const stamp = record.generatedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return { json, sha256, fileName: `incident-${alertId}-${stamp}.json`, record };
}
