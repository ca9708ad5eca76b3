import { and, asc, eq, inArray } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../../audit/log.js';
import { toIso, toIsoOrNull } from '../../common/schemas.js';
import type { Tx } from '../../db/client.js';
import { departments, hl7Sources } from '../../db/schema.js';
import { conflict, notFound } from '../../errors.js';
import type { Actor } from '../../permissions.js';
import type { CreateHl7SourceInput, Hl7Source } from '../schemas.js';

type Row = typeof hl7Sources.$inferSelect;
const toSource = (r: Row): Hl7Source => ({
  id: r.id,
  name: r.name,
  sendingFacility: r.sendingFacility,
  departments: r.departments as Record<string, string>,
  heartbeatSeconds: r.heartbeatSeconds,
  lastMessageAt: toIsoOrNull(r.lastMessageAt),
  isActive: r.isActive,
  createdAt: toIso(r.createdAt),
});

/** Every mapped department must be the caller's hospital's own: another hospital's id is NOT_FOUND. */
export async function createHl7Source(db: Tx, audit: AuditContext, actor: Actor, input: CreateHl7SourceInput): Promise<Hl7Source> {
  return db.transaction(async (tx) => {
    const ids = [...new Set(Object.values(input.departments))];
    const own = await tx.select({ id: departments.id }).from(departments).where(and(eq(departments.hospitalId, actor.hospitalId), inArray(departments.id, ids)));
    if (own.length !== ids.length) throw notFound('Department');
    const [byName] = await tx.select({ id: hl7Sources.id }).from(hl7Sources).where(and(eq(hl7Sources.hospitalId, actor.hospitalId), eq(hl7Sources.name, input.name)));
    if (byName) throw conflict(`An HL7 source named "${input.name}" exists already`);
    // The facility is unique across hospitals; the refusal does not say whose it is.
    const [row] = await tx
      .insert(hl7Sources)
      .values({ hospitalId: actor.hospitalId, name: input.name, sendingFacility: input.sendingFacility, departments: input.departments, heartbeatSeconds: input.heartbeatSeconds ?? null })
      .onConflictDoNothing()
      .returning();
    if (!row) throw conflict(`Sending facility "${input.sendingFacility}" is in use already`);
    await logAuditEvent(tx, audit, { action: 'hl7_source.created', resource: 'hl7_source', resourceId: row.id, metadata: { name: row.name, sendingFacility: row.sendingFacility, departments: input.departments } });
    return toSource(row);
  });
}

export async function listHl7Sources(db: Tx, hospitalId: string): Promise<Hl7Source[]> {
  const rows = await db.select().from(hl7Sources).where(eq(hl7Sources.hospitalId, hospitalId)).orderBy(asc(hl7Sources.createdAt), asc(hl7Sources.id));
  return rows.map(toSource);
}

/** Deactivated, not deleted: its alerts keep their source name, and its messages are answered AE. */
export async function deactivateHl7Source(db: Tx, audit: AuditContext, actor: Actor, sourceId: string): Promise<Hl7Source> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(hl7Sources)
      .set({ isActive: false })
      .where(and(eq(hl7Sources.hospitalId, actor.hospitalId), eq(hl7Sources.id, sourceId)))
      .returning();
    if (!row) throw notFound('HL7 source');
    await logAuditEvent(tx, audit, { action: 'hl7_source.deactivated', resource: 'hl7_source', resourceId: row.id, metadata: { name: row.name } });
    return toSource(row);
  });
}
