import { and, eq, inArray, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { hospitals, scheduleOverrides, scheduleParticipants, schedules, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, forbidden, notFound } from '../errors.js';
import { readSettings } from '../hospitals/settings.js';
import { can, type Role } from '../permissions.js';
import type { AddOverrideInput, CreateScheduleInput, ScheduleOverride, UpdateScheduleInput } from './schemas.js';
import { loadSchedule } from './service.js';

/** Changes to on-call schedules; each audited in the same transaction. */

interface Caller {
  id: string;
  role: Role;
  hospitalId: string;
}

/** Participants must be active users of the hospital (the composite foreign key is the database's half). */
async function ensureActiveUsers(tx: Tx, hospitalId: string, ids: string[], field: string): Promise<void> {
  const rows = await tx.select({ id: users.id }).from(users).where(and(eq(users.hospitalId, hospitalId), eq(users.isActive, true), inArray(users.id, [...new Set(ids)])));
  const found = new Set(rows.map((r) => r.id));
  if (ids.some((id) => !found.has(id))) throw badRequest('Only active users of this hospital can be on call', { [field]: ['This person is not an active user of this hospital: choose someone else'] });
}

const duplicateName = () => new AppError('CONFLICT', 'A schedule with this name already exists', { name: ['A schedule with this name already exists'] });

function rethrowNameRace(err: unknown): never {
  const pg = (err as { cause?: { code?: string; constraint?: string } }).cause ?? (err as { code?: string; constraint?: string });
  if (pg?.code === '23505' && pg.constraint === 'schedules_hospital_name_key') throw duplicateName();
  throw err;
}

async function ensureNameFree(tx: Tx, hospitalId: string, name: string, exceptId?: string): Promise<void> {
  const rows = await tx
    .select({ id: schedules.id })
    .from(schedules)
    .where(and(eq(schedules.hospitalId, hospitalId), eq(schedules.name, name), exceptId ? sql`${schedules.id} <> ${exceptId}` : undefined));
  if (rows.length) throw duplicateName();
}

async function writeParticipants(tx: Tx, hospitalId: string, scheduleId: string, participants: string[]): Promise<void> {
  await tx.delete(scheduleParticipants).where(and(eq(scheduleParticipants.hospitalId, hospitalId), eq(scheduleParticipants.scheduleId, scheduleId)));
  await tx.insert(scheduleParticipants).values(participants.map((userId, position) => ({ scheduleId, hospitalId, position, userId })));
}

export async function createSchedule(deps: AppDeps, audit: AuditContext, caller: Caller, input: CreateScheduleInput): Promise<{ id: string }> {
  return deps.db
    .transaction(async (tx) => {
      await ensureActiveUsers(tx, caller.hospitalId, input.rotation.participants, 'rotation.participants');
      await ensureNameFree(tx, caller.hospitalId, input.name);
      const [row] = await tx
        .insert(schedules)
        .values({ hospitalId: caller.hospitalId, name: input.name, timezone: input.timezone ?? null, startsAt: new Date(input.rotation.startsAt), shiftHours: input.rotation.shiftHours, createdBy: caller.id })
        .returning({ id: schedules.id });
      const id = (row as { id: string }).id;
      await writeParticipants(tx, caller.hospitalId, id, input.rotation.participants);
      await logAuditEvent(tx, audit, { action: 'schedule.created', resource: 'schedule', resourceId: id, metadata: { name: input.name, timezone: input.timezone ?? null, rotation: input.rotation } });
      return { id };
    })
    .catch(rethrowNameRace);
}

/**
 * A schedule that an escalation level pages cannot be deactivated: that level would silently call
 * nobody. The settings are changed first (the settings screen names the level).
 */
async function ensureNotATarget(tx: Tx, hospitalId: string, scheduleId: string): Promise<void> {
  const [h] = await tx.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, hospitalId));
  const used = Object.entries(readSettings(h?.settings).escalation).flatMap(([priority, policy]) =>
    (policy.targets ?? []).flatMap((targets, level) => (targets.some((t) => t.kind === 'schedule' && t.scheduleId === scheduleId) ? [`${priority} level ${level}`] : [])),
  );
  if (used.length) {
    const message = `Escalation pages this schedule (${used.join(', ')}): change the escalation settings first`;
    throw new AppError('CONFLICT', message, { isActive: [message] });
  }
}

export async function updateSchedule(deps: AppDeps, audit: AuditContext, caller: Caller, input: UpdateScheduleInput): Promise<{ id: string }> {
  const { scheduleId, ...fields } = input;
  return deps.db
    .transaction(async (tx) => {
      // FOR NO KEY UPDATE: serialises edits of one schedule without blocking the foreign-key checks of its overrides.
      const locked = await tx.select({ id: schedules.id }).from(schedules).where(and(eq(schedules.hospitalId, caller.hospitalId), eq(schedules.id, scheduleId))).for('no key update');
      if (!locked.length) throw notFound('Schedule');
      const current = await loadSchedule(tx, caller.hospitalId, scheduleId);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (fields.name !== undefined && fields.name !== current.name) changes.name = { from: current.name, to: fields.name };
      if (fields.timezone !== undefined && fields.timezone !== current.timezone) changes.timezone = { from: current.timezone, to: fields.timezone };
      if (fields.isActive !== undefined && fields.isActive !== current.isActive) changes.isActive = { from: current.isActive, to: fields.isActive };
      const before = { participants: current.participants, startsAt: current.startsAt.toISOString(), shiftHours: current.shiftHours };
      const r = fields.rotation;
      if (r && JSON.stringify({ ...r, startsAt: new Date(r.startsAt).toISOString() }) !== JSON.stringify(before)) changes.rotation = { from: before, to: r };
      if (!Object.keys(changes).length) return { id: scheduleId };
      if (changes.name) await ensureNameFree(tx, caller.hospitalId, fields.name as string, scheduleId);
      if (changes.isActive && !fields.isActive) await ensureNotATarget(tx, caller.hospitalId, scheduleId);
      if (changes.rotation && r) {
        await ensureActiveUsers(tx, caller.hospitalId, r.participants, 'rotation.participants');
        await writeParticipants(tx, caller.hospitalId, scheduleId, r.participants);
      }
      await tx
        .update(schedules)
        .set({
          ...(changes.name ? { name: fields.name } : {}),
          ...(changes.timezone ? { timezone: fields.timezone ?? null } : {}),
          ...(changes.isActive ? { isActive: fields.isActive } : {}),
          ...(changes.rotation && r ? { startsAt: new Date(r.startsAt), shiftHours: r.shiftHours } : {}),
          updatedAt: sql`now()`,
        })
        .where(and(eq(schedules.hospitalId, caller.hospitalId), eq(schedules.id, scheduleId)));
      await logAuditEvent(tx, audit, { action: 'schedule.updated', resource: 'schedule', resourceId: scheduleId, metadata: { changed: Object.keys(changes), changes } });
      return { id: scheduleId };
    })
    .catch(rethrowNameRace);
}

const overrideOut = (o: typeof scheduleOverrides.$inferSelect): ScheduleOverride => ({
  id: o.id,
  scheduleId: o.scheduleId,
  userId: o.userId,
  from: o.startsAt.toISOString(),
  to: o.endsAt.toISOString(),
  reason: o.reason,
  createdBy: o.createdBy,
  createdAt: o.createdAt.toISOString(),
});

/** A refusal on the record is part of the trail: its own statement, so it survives the rollback. */
async function refuse(deps: AppDeps, audit: AuditContext, action: string, resourceId: string, reason: string): Promise<never> {
  await logAuditEvent(deps.db, audit, { action, resource: 'schedule_override', resourceId, outcome: 'failure', metadata: { reason } });
  throw forbidden(reason);
}

export async function addOverride(deps: AppDeps, audit: AuditContext, caller: Caller, input: AddOverrideInput): Promise<ScheduleOverride> {
  const from = new Date(input.from);
  const to = new Date(input.to);
  if (to <= new Date()) throw badRequest('This window has already ended', { to: ['Must be in the future'] });
  await loadSchedule(deps.db, caller.hospitalId, input.scheduleId);
  if (input.userId !== caller.id && !can(caller.role, 'schedule.manage')) await refuse(deps, audit, 'schedule.override_added', input.scheduleId, 'You may put only yourself on call');
  return deps.db.transaction(async (tx) => {
    await loadSchedule(tx, caller.hospitalId, input.scheduleId);
    await ensureActiveUsers(tx, caller.hospitalId, [input.userId], 'userId');
    const [row] = await tx
      .insert(scheduleOverrides)
      .values({ hospitalId: caller.hospitalId, scheduleId: input.scheduleId, userId: input.userId, startsAt: from, endsAt: to, reason: input.reason || null, createdBy: caller.id })
      .returning();
    const o = overrideOut(row as typeof scheduleOverrides.$inferSelect);
    await logAuditEvent(tx, audit, { action: 'schedule.override_added', resource: 'schedule_override', resourceId: o.id, metadata: { scheduleId: o.scheduleId, userId: o.userId, from: o.from, to: o.to, reason: o.reason } });
    return o;
  });
}

/**
 * An override not yet started is deleted; one running is cut short at now (the past stays the record
 * of who was on call); one already ended is refused.
 */
export async function removeOverride(deps: AppDeps, audit: AuditContext, caller: Caller, overrideId: string): Promise<{ id: string; removed: 'deleted' | 'ended' }> {
  return deps.db.transaction(async (tx) => {
    const [o] = await tx
      .select()
      .from(scheduleOverrides)
      .where(and(eq(scheduleOverrides.hospitalId, caller.hospitalId), eq(scheduleOverrides.id, overrideId)))
      .for('update');
    if (!o) throw notFound('Override');
    if (!can(caller.role, 'schedule.manage') && o.userId !== caller.id && o.createdBy !== caller.id) {
      await refuse(deps, audit, 'schedule.override_removed', overrideId, 'You may remove only your own overrides');
    }
    const now = new Date();
    if (o.endsAt <= now) throw badRequest('This override has already ended', { overrideId: ['Already ended: it stays as the record of who was on call'] });
    const removed = o.startsAt >= now ? 'deleted' : 'ended';
    if (removed === 'deleted') await tx.delete(scheduleOverrides).where(eq(scheduleOverrides.id, overrideId));
    else await tx.update(scheduleOverrides).set({ endsAt: now }).where(eq(scheduleOverrides.id, overrideId));
    await logAuditEvent(tx, audit, { action: 'schedule.override_removed', resource: 'schedule_override', resourceId: overrideId, metadata: { scheduleId: o.scheduleId, userId: o.userId, from: o.startsAt.toISOString(), to: o.endsAt.toISOString(), removed } });
    return { id: overrideId, removed };
  });
}
