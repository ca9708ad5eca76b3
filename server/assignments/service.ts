import { and, asc, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { toIso } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { careAssignments, departments, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, notFound } from '../errors.js';
import { type Actor, checkPermission } from '../permissions.js';
import { type CurrentAssignments, MAX_ASSIGNMENT_HOURS, type SetAssignmentsInput } from './schemas.js';

/** Current = not replaced by a later set and not past its end of shift. */
const currentWhere = (hospitalId: string, departmentId: string) =>
  and(eq(careAssignments.hospitalId, hospitalId), eq(careAssignments.departmentId, departmentId), isNull(careAssignments.replacedAt), gt(careAssignments.until, sql`now()`));

/**
 * The department's current assignments, for the pager's 'assigned' and 'charge' targets. Takes a
 * transaction or the pool (Tx is either), so the pager reads inside its own transaction.
 */
export async function currentAssignments(db: Tx, hospitalId: string, departmentId: string): Promise<{ userId: string; rooms: string[]; charge: boolean; until: Date }[]> {
  return db
    .select({ userId: careAssignments.userId, rooms: careAssignments.rooms, charge: careAssignments.isCharge, until: careAssignments.until })
    .from(careAssignments)
    .where(currentWhere(hospitalId, departmentId))
    .orderBy(desc(careAssignments.isCharge), asc(careAssignments.id));
}

async function findDepartment(db: Tx, hospitalId: string, departmentId: string, lock = false) {
  const q = db
    .select({ id: departments.id, code: departments.code, rooms: departments.rooms })
    .from(departments)
    .where(and(eq(departments.hospitalId, hospitalId), eq(departments.id, departmentId)));
  // FOR NO KEY UPDATE serialises two sets of one department without blocking foreign-key checks.
  const [row] = lock ? await q.for('no key update') : await q;
  if (!row) throw notFound('Department');
  return row;
}

/** assignments.current: any signed-in user of the hospital, any of its departments. */
export async function listCurrent(db: Tx, hospitalId: string, departmentId: string): Promise<CurrentAssignments> {
  await findDepartment(db, hospitalId, departmentId);
  const rows = await db
    .select({
      userId: careAssignments.userId,
      userName: users.name,
      rooms: careAssignments.rooms,
      charge: careAssignments.isCharge,
      until: careAssignments.until,
      assignedBy: careAssignments.assignedBy,
      assignedAt: careAssignments.startsAt,
    })
    .from(careAssignments)
    // A deactivated nurse is paged no more (server/paging/targets.ts): the list does not show her rooms as covered.
    .innerJoin(users, and(eq(users.hospitalId, careAssignments.hospitalId), eq(users.id, careAssignments.userId), eq(users.isActive, true)))
    .where(currentWhere(hospitalId, departmentId))
    .orderBy(desc(careAssignments.isCharge), asc(users.name), asc(careAssignments.id));
  return { departmentId, entries: rows.map((r) => ({ ...r, until: toIso(r.until), assignedAt: toIso(r.assignedAt) })) };
}

/**
 * The rule's record half: a nurse sets assignments only where she is the current charge nurse. When
 * the last shift's list has run out and the unit has no charge nurse, a nurse of the unit starts the
 * new shift by naming herself charge in the list she saves — else at 07:00 nobody but a head doctor
 * could, and the night's list would page nobody.
 */
async function ensureMayManage(tx: Tx, actor: Actor, departmentId: string, input: SetAssignmentsInput): Promise<void> {
  let chargeUserId: string | null = null;
  if (actor.role === 'nurse') {
    chargeUserId = (await currentAssignments(tx, actor.hospitalId, departmentId)).find((e) => e.charge)?.userId ?? null;
    if (chargeUserId === null && input.entries.some((e) => e.userId === actor.id && e.charge)) chargeUserId = actor.id;
  }
  checkPermission(actor, 'assignment.manage', { departmentId, chargeUserId });
}

type Place = { id: string; code: string; rooms: string[] };

/** Checks every rule that needs the database; returns each entry's rooms in the department's spelling. */
async function validate(tx: Tx, hospitalId: string, dept: Place, input: SetAssignmentsInput): Promise<string[][]> {
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => {
    errors[key] = [...(errors[key] ?? []), message];
  };
  const until = new Date(input.until).getTime();
  const now = Date.now();
  if (until <= now) add('until', 'Choose a time in the future');
  else if (until > now + MAX_ASSIGNMENT_HOURS * 3_600_000) add('until', `At most ${MAX_ASSIGNMENT_HOURS} hours ahead`);

  const ids = input.entries.map((e) => e.userId);
  const people = ids.length
    ? await tx
        .select({ id: users.id, role: users.role, isActive: users.isActive })
        .from(users)
        .where(and(eq(users.hospitalId, hospitalId), inArray(users.id, ids)))
    : [];
  const byId = new Map(people.map((p) => [p.id, p]));
  const known = new Map(dept.rooms.map((r) => [r.toLowerCase(), r]));
  const others = known.size ? await roomsElsewhere(tx, hospitalId, dept.id) : new Map<string, string>();
  const seenUsers = new Set<string>();
  const roomHolder = new Map<string, number>();
  let charges = 0;
  const rooms = input.entries.map((e, i) => {
    const person = byId.get(e.userId);
    // Another hospital's user reads as unknown: the answer must not reveal that the id exists.
    if (!person) add(`entries.${i}.userId`, 'No such nurse or doctor in this hospital');
    else if (!person.isActive) add(`entries.${i}.userId`, 'This user is deactivated');
    else if (person.role !== 'nurse' && person.role !== 'doctor') add(`entries.${i}.userId`, 'Only nurses and doctors can be assigned');
    else if (e.charge && person.role !== 'nurse') add(`entries.${i}.charge`, 'The charge entry must be a nurse');
    if (seenUsers.has(e.userId)) add(`entries.${i}.userId`, 'This person is listed twice');
    seenUsers.add(e.userId);
    if (e.charge && ++charges > 1) add(`entries.${i}.charge`, 'Only one charge nurse per department');
    return e.rooms.map((room) => {
      const key = room.toLowerCase();
      const holder = roomHolder.get(key);
      if (holder !== undefined) add(`entries.${i}.rooms`, `Room ${room} is already assigned in entry ${holder + 1}`);
      roomHolder.set(key, i);
      if (known.size && !known.has(key)) {
        const elsewhere = others.get(key);
        add(`entries.${i}.rooms`, elsewhere ? `Room ${room} is in ${elsewhere}, not ${dept.code}` : `Room ${room} is not a room of ${dept.code}`);
      }
      return known.get(key) ?? room;
    });
  });
  if (Object.keys(errors).length) {
    const first = Object.values(errors)[0]?.[0] ?? 'These assignments are not valid';
    throw badRequest(first, errors);
  }
  return rooms;
}

/** Lower-cased room → code of the other department of the hospital that lists it. */
async function roomsElsewhere(tx: Tx, hospitalId: string, exceptId: string): Promise<Map<string, string>> {
  const { rows } = await tx.execute<{ room: string; code: string }>(
    sql`SELECT lower(r) AS room, d.code FROM ${departments} d, unnest(d.rooms) r WHERE d.hospital_id = ${hospitalId} AND d.id <> ${exceptId}`,
  );
  return new Map(rows.map((r) => [r.room, r.code]));
}

/**
 * assignments.set: replaces the department's current list in one transaction (the old entries are
 * kept, marked replaced, for the record) and audits the change with counts only. Needs only the
 * pool, so the development seed can call it with a head doctor's Actor to give ICU and ER a shift.
 */
export async function setAssignments(deps: Pick<AppDeps, 'db'>, actor: Actor, audit: AuditContext, input: SetAssignmentsInput): Promise<CurrentAssignments> {
  const hospitalId = actor.hospitalId;
  return deps.db
    .transaction(async (tx) => {
    const dept = await findDepartment(tx, hospitalId, input.departmentId, true);
    // Checked under the department's lock, so a charge nurse replaced a moment ago cannot still set.
    await ensureMayManage(tx, actor, dept.id, input);
    const rooms = await validate(tx, hospitalId, dept, input);
    const replaced = await tx
      .update(careAssignments)
      .set({ replacedAt: sql`now()` })
      .where(and(eq(careAssignments.hospitalId, hospitalId), eq(careAssignments.departmentId, dept.id), isNull(careAssignments.replacedAt)))
      .returning({ id: careAssignments.id });
    const until = new Date(input.until);
    if (input.entries.length) {
      await tx.insert(careAssignments).values(
        input.entries.map((e, i) => ({ hospitalId, departmentId: dept.id, userId: e.userId, rooms: rooms[i] ?? [], isCharge: e.charge ?? false, until, assignedBy: actor.id })),
      );
    }
    const charge = input.entries.find((e) => e.charge)?.userId ?? null;
    await logAuditEvent(tx, audit, {
      action: 'assignment.set',
      resource: 'department',
      resourceId: dept.id,
      metadata: { entries: input.entries.length, rooms: rooms.flat().length, chargeUserId: charge, replaced: replaced.length, until: until.toISOString() },
    });
    return listCurrent(tx, hospitalId, dept.id);
  })
    .catch(async (err: unknown) => {
      // A refusal is part of the trail, written outside the rolled-back transaction.
      if (err instanceof AppError && err.code === 'FORBIDDEN') {
        await logAuditEvent(deps.db, audit, {
          action: 'access.denied',
          resource: 'department',
          resourceId: input.departmentId,
          outcome: 'failure',
          metadata: { permission: 'assignment.manage', role: actor.role, reason: 'not_charge_nurse' },
        });
      }
      throw err;
    });
}
