import { and, eq, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { departments, hospitals } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { CreateDepartmentInput, Department, Hospital, UpdateDepartmentInput } from './schemas.js';
import { applySettingsPatch, changedSettingKeys, type HospitalSettings, type HospitalSettingsPatch, hospitalSettingsSchema, readSettings } from './settings.js';

export async function getHospital(db: Tx, hospitalId: string): Promise<Hospital> {
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
  return { ...row, settings: readSettings(row.settings) };
}

const departmentColumns = { id: departments.id, code: departments.code, name: departments.name, isActive: departments.isActive };

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
    const changed = changedSettingKeys(before, after);
    if (changed.length === 0) return after;
    await tx.update(hospitals).set({ settings: after, updatedAt: sql`now()` }).where(eq(hospitals.id, hospitalId));
    await logAuditEvent(tx, audit, { action: 'hospital.settings_updated', resource: 'hospital', resourceId: hospitalId, metadata: { changed, patch } });
    return after;
  });
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
        const [dept] = await tx.insert(departments).values({ hospitalId, code: input.code, name: input.name }).returning(departmentColumns);
        const created = dept as Department;
        await logAuditEvent(tx, audit, { action: 'department.created', resource: 'department', resourceId: created.id, metadata: { code: created.code, name: created.name } });
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
            .filter((k) => fields[k] !== undefined && fields[k] !== current[k])
            .map((k) => [k, { from: current[k], to: fields[k] }]),
        ) as Record<string, { from: unknown; to: unknown }>;
        if (Object.keys(changes).length === 0) return current;
        if (changes.code) await ensureCodeFree(tx, hospitalId, fields.code as string, id);
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

