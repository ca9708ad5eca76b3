import { and, eq, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { departments, hospitals } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { CreateDepartmentInput, Department, Hospital, UpdateDepartmentInput } from './schemas.js';
import { applySettingsPatch, changedSettingKeys, type EscalationTarget, type HospitalSettings, type HospitalSettingsPatch, hospitalSettingsSchema, readSettings } from './settings.js';

export async function getHospital(db: Tx, hospitalId: string, defaultTimezone: string): Promise<Hospital> {
  const [row] = await db
    .select({
      id: hospitals.id,
      name: hospitals.name,
      slug: hospitals.slug,
      address: hospitals.address,
      phone: hospitals.phone,
      licenseNumber: hospitals.licenseNumber,
      isActive: hospitals.isActive,
      settings: hospitals.settings,
    })
    .from(hospitals)
    .where(eq(hospitals.id, hospitalId));
  if (!row) throw notFound('Hospital');
  const settings = readSettings(row.settings);
  return { ...row, settings, timezone: settings.timezone ?? defaultTimezone };
}

const departmentColumns = { id: departments.id, code: departments.code, name: departments.name, isActive: departments.isActive, rooms: departments.rooms };

/**
 * A room belongs to one department of a hospital, or "assigned, room 312" could name two places.
 * Compared case-insensitively, as alerts match rooms. The advisory lock serialises room edits of
 * one hospital so two concurrent edits cannot both take the same room (a record lock: taken
 * before the audit row's hospital lock, DESIGN.md "Deadlocks are bugs").
 */
async function ensureRoomsFree(tx: Tx, hospitalId: string, rooms: string[], exceptId?: string): Promise<void> {
  if (rooms.length === 0) return;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`department-rooms:${hospitalId}`}))`);
  const lowered = rooms.map((r) => r.toLowerCase());
  const { rows } = await tx.execute<{ room: string; code: string }>(sql`
    SELECT r AS room, d.code FROM ${departments} d, unnest(d.rooms) r
    WHERE d.hospital_id = ${hospitalId} AND (${exceptId ?? null}::text IS NULL OR d.id <> ${exceptId ?? null})
      AND lower(r) = ANY(${sql.param(lowered)}::text[])
    ORDER BY d.code, r LIMIT 5`);
  if (rows.length) {
    const taken = rows.map((r) => `Room ${r.room} is already in ${r.code}`);
    throw badRequest(taken.join('; '), { rooms: taken });
  }
}

const sameValue = (a: unknown, b: unknown) => (Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => x === b[i]) : a === b);

/** Every department of the hospital, inactive ones included (history and users still point at them). */
export function listDepartments(db: Tx, hospitalId: string): Promise<Department[]> {
  return db.select(departmentColumns).from(departments).where(eq(departments.hospitalId, hospitalId)).orderBy(departments.name, departments.id);
}

/**
 * Applies a partial settings update (objects deep-merged, arrays replaced) and validates the whole
 * result. The row is locked so two concurrent partial updates both land. FOR NO KEY UPDATE: FOR UPDATE
 * would block the FOR KEY SHARE of every foreign-key check to the hospital (each audit and alert-event
 * row) while those transactions hold the hospital lock our audit row then waits for: a deadlock.
 */
export async function updateSettings(deps: AppDeps, audit: AuditContext, hospitalId: string, patch: HospitalSettingsPatch): Promise<HospitalSettings> {
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, hospitalId)).for('no key update');
    if (!row) throw notFound('Hospital');
    const before = readSettings(row.settings);
    const parsed = hospitalSettingsSchema.safeParse(applySettingsPatch(before, patch));
    if (!parsed.success) {
      const fieldErrors: Record<string, string[]> = {};
      for (const issue of parsed.error.issues) {
        const key = issue.path.join('.') || 'settings';
        fieldErrors[key] = [...(fieldErrors[key] ?? []), issue.message];
      }
      throw badRequest('These settings are not valid', fieldErrors);
    }
    const after = parsed.data;
    const refErrors = await targetReferenceErrors(tx, hospitalId, after);
    if (Object.keys(refErrors).length) throw badRequest('These settings are not valid', refErrors);
    const changed = changedSettingKeys(before, after);
    if (changed.length === 0) return after;
    await tx.update(hospitals).set({ settings: after, updatedAt: sql`now()` }).where(eq(hospitals.id, hospitalId));
    await logAuditEvent(tx, audit, { action: 'hospital.settings_updated', resource: 'hospital', resourceId: hospitalId, metadata: { changed, patch } });
    return after;
  });
}

/**
 * Escalation targets that name a user or a schedule must name this hospital's active ones (the
 * trigger in migrations 0012/0019 is the database's half; this gives the form its field errors). Code teams too.
 */
async function targetReferenceErrors(tx: Tx, hospitalId: string, settings: HospitalSettings): Promise<Record<string, string[]>> {
  const named: [string, EscalationTarget][] = [];
  for (const [priority, policy] of Object.entries(settings.escalation)) {
    for (const [level, targets] of (policy.targets ?? []).entries()) for (const [i, t] of targets.entries()) named.push([`escalation.${priority}.targets.${level}.${i}`, t]);
  }
  for (const [code, team] of Object.entries(settings.codeTeams ?? {})) for (const [i, t] of (team ?? []).entries()) named.push([`codeTeams.${code}.${i}`, t]);
  const errors: Record<string, string[]> = {};
  for (const [key, t] of named) {
    if (t.kind === 'user') {
      const { rows } = await tx.execute(sql`SELECT 1 FROM users WHERE id = ${t.userId} AND hospital_id = ${hospitalId} AND is_active`);
      if (!rows.length) errors[key] = ['This person is not an active user of this hospital: choose someone else'];
    }
    if (t.kind === 'schedule') {
      const { rows } = await tx.execute(sql`SELECT 1 FROM schedules WHERE id = ${t.scheduleId} AND hospital_id = ${hospitalId} AND is_active`);
      if (!rows.length) errors[key] = ['This schedule is not an active schedule of this hospital: choose another'];
    }
  }
  return errors;
}

const duplicateCode = (code: string) => {
  const message = `A department with code ${code} already exists`;
  return new AppError('CONFLICT', message, { code: [message] });
};

/** A concurrent insert of the same code loses on the unique constraint: the same clear answer. */
function rethrowCodeRace(code: string | undefined) {
  return (err: unknown): never => {
    const pg = (err as { cause?: { code?: string; constraint?: string } }).cause ?? (err as { code?: string; constraint?: string });
    if (code && pg?.code === '23505' && pg.constraint === 'departments_hospital_code_key') throw duplicateCode(code);
    throw err;
  };
}

async function ensureCodeFree(tx: Tx, hospitalId: string, code: string, exceptId?: string): Promise<void> {
  const [row] = await tx
    .select({ id: departments.id })
    .from(departments)
    .where(and(eq(departments.hospitalId, hospitalId), eq(departments.code, code), exceptId ? sql`${departments.id} <> ${exceptId}` : undefined));
  if (row) throw duplicateCode(code);
}

/** Duplicate codes are refused, and the refusal is audited outside the rolled-back transaction. */
async function auditingConflicts<T>(deps: AppDeps, audit: AuditContext, action: string, resourceId: string | null, meta: object, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.code === 'CONFLICT') {
      await logAuditEvent(deps.db, audit, { action, resource: 'department', resourceId, outcome: 'failure', metadata: { ...meta, reason: err.message } });
    }
    throw err;
  }
}

export async function createDepartment(deps: AppDeps, audit: AuditContext, hospitalId: string, input: CreateDepartmentInput): Promise<Department> {
  return auditingConflicts(deps, audit, 'department.created', null, input, () =>
    deps.db
      .transaction(async (tx) => {
        await ensureCodeFree(tx, hospitalId, input.code);
        const rooms = input.rooms ?? [];
        await ensureRoomsFree(tx, hospitalId, rooms);
        const [dept] = await tx.insert(departments).values({ hospitalId, code: input.code, name: input.name, rooms }).returning(departmentColumns);
        const created = dept as Department;
        await logAuditEvent(tx, audit, { action: 'department.created', resource: 'department', resourceId: created.id, metadata: { code: created.code, name: created.name, rooms: created.rooms } });
        return created;
      })
      .catch(rethrowCodeRace(input.code)),
  );
}

export async function updateDepartment(deps: AppDeps, audit: AuditContext, hospitalId: string, input: UpdateDepartmentInput): Promise<Department> {
  const { id, ...fields } = input;
  return auditingConflicts(deps, audit, 'department.updated', id, fields, () =>
    deps.db
      .transaction(async (tx) => {
        const [current] = await tx
          .select(departmentColumns)
          .from(departments)
          .where(and(eq(departments.hospitalId, hospitalId), eq(departments.id, id)))
          .for('no key update');
        if (!current) throw notFound('Department');
        const changes = Object.fromEntries(
          (Object.keys(fields) as (keyof typeof fields)[])
            .filter((k) => fields[k] !== undefined && !sameValue(fields[k], current[k]))
            .map((k) => [k, { from: current[k], to: fields[k] }]),
        ) as Record<string, { from: unknown; to: unknown }>;
        if (Object.keys(changes).length === 0) return current;
        if (changes.code) await ensureCodeFree(tx, hospitalId, fields.code as string, id);
        if (changes.rooms) await ensureRoomsFree(tx, hospitalId, fields.rooms as string[], id);
        const patch = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v.to]));
        const [updated] = await tx
          .update(departments)
          .set({ ...patch, updatedAt: sql`now()` })
          .where(eq(departments.id, id))
          .returning(departmentColumns);
        await logAuditEvent(tx, audit, { action: 'department.updated', resource: 'department', resourceId: id, metadata: { changed: Object.keys(changes), changes } });
        return updated as Department;
      })
      .catch(rethrowCodeRace(fields.code)),
  );
}

