import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentAssignments } from '../../server/assignments/service.js';
import { users } from '../../server/db/schema.js';
import { clientFor } from '../support/server.js';
import { auditOf, type Fixture, freshUser, setup, tokenFor, trpcError } from '../users/helpers.js';

let f: Fixture;
let head: ReturnType<typeof clientFor>;
let nurseEr: ReturnType<typeof clientFor>;
let operator: ReturnType<typeof clientFor>;
let doctor: ReturnType<typeof clientFor>;
let icu: string;
let er: string;
let card: string;

beforeAll(async () => {
  f = await setup();
  head = clientFor(f.server, await f.t.token('general', 'head'));
  nurseEr = clientFor(f.server, await f.t.token('general', 'nurse.er'));
  operator = clientFor(f.server, await f.t.token('general', 'operator'));
  doctor = clientFor(f.server, await f.t.token('general', 'doctor.icu'));
  ({ ICU: icu, ER: er, CARD: card } = f.t.hospital.general.departments);
});

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
const id = (account: Parameters<Fixture['t']['user']>[1]) => f.t.user('general', account).id;

/** What a refused set must leave alone: the assignments and every audit row but the refusal's. */
async function written() {
  const { rows } = await f.env.deps.db.execute<{ a: number; current: number; audit: number }>(sql`SELECT
    (SELECT count(*)::int FROM care_assignments) AS a,
    (SELECT count(*)::int FROM care_assignments WHERE replaced_at IS NULL) AS current,
    (SELECT count(*)::int FROM audit_logs WHERE action <> 'access.denied') AS audit`);
  return rows[0];
}

describe('assignments.set and assignments.current', () => {
  it('sets a department’s list, readable by anyone of the hospital, audited with counts', async () => {
    const extra = await freshUser(f, { role: 'nurse', name: 'Aaron Extra' });
    const seeded = (await f.env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM care_assignments WHERE department_id = ${icu} AND replaced_at IS NULL`)).rows[0]?.n;
    const until = inHours(8);
    const res = await f.admin.assignments.set.mutate({
      departmentId: icu,
      until,
      entries: [
        { userId: id('nurse.icu'), rooms: [], charge: true },
        { userId: id('doctor.icu'), rooms: [' 301 ', '302'] },
        { userId: extra.id, rooms: ['303'] },
      ],
    });
    expect(res.departmentId).toBe(icu);
    // The charge entry first, then by name.
    expect(res.entries.map((e) => [e.userName, e.rooms, e.charge])).toEqual([
      ['Nia ICU Nurse', [], true],
      ['Aaron Extra', ['303'], false],
      ['Dr. Ivan ICU', ['301', '302'], false],
    ]);
    expect(res.entries.every((e) => e.until === until && e.assignedBy === id('admin') && !Number.isNaN(Date.parse(e.assignedAt)))).toBe(true);
    for (const reader of [operator, nurseEr, f.nurse, doctor, head]) expect(await reader.assignments.current.query({ departmentId: icu })).toEqual(res);
    expect(Object.keys(res.entries[0] ?? {}).sort()).toEqual(['assignedAt', 'assignedBy', 'charge', 'rooms', 'until', 'userId', 'userName']);

    const [row] = await auditOf(f, 'assignment.set', icu);
    expect(row).toMatchObject({ outcome: 'success', user_id: id('admin'), resource: 'department', hospital_id: f.t.hospital.general.id });
    // replaced counts the seed's own ICU shift, if the seed set one.
    expect(row?.metadata).toEqual({ entries: 3, rooms: 3, chargeUserId: id('nurse.icu'), replaced: seeded, until });

    const forPager = await currentAssignments(f.env.deps.db, f.t.hospital.general.id, icu);
    expect(forPager).toHaveLength(3);
    expect(forPager[0]).toEqual({ userId: id('nurse.icu'), rooms: [], charge: true, until: new Date(until) });
    // The pager's read is scoped too: another hospital's id sees nothing.
    expect(await currentAssignments(f.env.deps.db, f.t.hospital.riverside.id, icu)).toEqual([]);
  });

  it('replaces the current list in one go: old entries kept, marked replaced', async () => {
    const until = inHours(4);
    await head.assignments.set.mutate({ departmentId: card, until, entries: [{ userId: id('nurse.er'), rooms: ['401', '402'] }] });
    const res = await head.assignments.set.mutate({ departmentId: card, until, entries: [{ userId: id('nurse.er'), rooms: ['403'] }, { userId: id('doctor.er'), rooms: ['401'] }] });
    expect(res.entries.map((e) => e.rooms)).toEqual([['401'], ['403']]); // by name: Dr. Emma, Noah
    const { rows } = await f.env.deps.db.execute<{ rooms: string[]; replaced: boolean }>(
      sql`SELECT rooms, replaced_at IS NOT NULL AS replaced FROM care_assignments WHERE department_id = ${card} ORDER BY created_at, id`,
    );
    expect(rows.filter((r) => r.replaced).map((r) => r.rooms)).toEqual([['401', '402']]);
    expect(rows.filter((r) => !r.replaced)).toHaveLength(2);
    expect((await auditOf(f, 'assignment.set', card)).at(-1)?.metadata).toMatchObject({ entries: 2, replaced: 1 });

    // Empty entries clear the department.
    const cleared = await head.assignments.set.mutate({ departmentId: card, until, entries: [] });
    expect(cleared).toEqual({ departmentId: card, entries: [] });
    expect(await operator.assignments.current.query({ departmentId: card })).toEqual({ departmentId: card, entries: [] });
    expect((await auditOf(f, 'assignment.set', card)).at(-1)?.metadata).toMatchObject({ entries: 0, replaced: 2, chargeUserId: null });
  });

  it('lets a nurse set assignments only as her department’s current charge nurse', async () => {
    const until = inHours(6);
    // Nia is ICU's charge nurse (first test); a plain ICU nurse is not.
    await f.admin.assignments.set.mutate({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: [], charge: true }, { userId: id('doctor.icu'), rooms: ['301'] }] });
    const plain = await freshUser(f, { role: 'nurse' });
    const plainNurse = clientFor(f.server, await tokenFor(f, plain));
    await f.admin.assignments.set.mutate({ departmentId: er, until, entries: [{ userId: id('nurse.er'), rooms: ['E1'] }] });

    const before = await written();
    const denied = (await auditOf(f, 'access.denied')).length;
    const entries = [{ userId: id('nurse.icu'), rooms: ['302'], charge: true }];
    // An ICU nurse who is not charge; an ER nurse with rooms but not charge; ICU's charge nurse in ER.
    expect((await trpcError(plainNurse.assignments.set.mutate({ departmentId: icu, until, entries }))).code).toBe('FORBIDDEN');
    expect((await trpcError(nurseEr.assignments.set.mutate({ departmentId: er, until, entries: [] }))).code).toBe('FORBIDDEN');
    expect((await trpcError(f.nurse.assignments.set.mutate({ departmentId: er, until, entries: [] }))).code).toBe('FORBIDDEN');
    // Roles without assignment.manage.
    expect((await trpcError(doctor.assignments.set.mutate({ departmentId: icu, until, entries }))).code).toBe('FORBIDDEN');
    expect((await trpcError(operator.assignments.set.mutate({ departmentId: icu, until, entries }))).code).toBe('FORBIDDEN');
    expect(await written()).toEqual(before);
    const refusals = (await auditOf(f, 'access.denied')).slice(denied);
    expect(refusals).toHaveLength(5);
    expect(refusals[0]).toMatchObject({ outcome: 'failure', user_id: plain.id, resource: 'department', resource_id: icu });

    // The charge nurse sets her own department, and may hand the charge on…
    const res = await f.nurse.assignments.set.mutate({ departmentId: icu, until, entries: [{ userId: plain.id, rooms: [], charge: true }, { userId: id('nurse.icu'), rooms: ['302'] }] });
    expect(res.entries.map((e) => [e.userId, e.charge])).toEqual([
      [plain.id, true],
      [id('nurse.icu'), false],
    ]);
    // …after which she may no longer, and the new charge nurse may.
    expect((await trpcError(f.nurse.assignments.set.mutate({ departmentId: icu, until, entries }))).code).toBe('FORBIDDEN');
    expect((await plainNurse.assignments.set.mutate({ departmentId: icu, until, entries })).entries).toHaveLength(1);
  });

  it('leaves a nurse deactivated during her shift off the current list: her rooms show as nobody’s', async () => {
    const leaver = await freshUser(f, { role: 'nurse' });
    await head.assignments.set.mutate({ departmentId: icu, until: inHours(4), entries: [{ userId: id('nurse.icu'), rooms: ['301'], charge: true }, { userId: leaver.id, rooms: ['302'] }] });
    expect((await operator.assignments.current.query({ departmentId: icu })).entries.map((e) => e.userId)).toContain(leaver.id);
    await f.env.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${leaver.id}`);
    const now = await operator.assignments.current.query({ departmentId: icu });
    expect(now.entries.map((e) => e.userId)).toEqual([id('nurse.icu')]);
    expect(now.entries.flatMap((e) => e.rooms)).toEqual(['301']);
  });

  it('serialises concurrent sets of one department: the last one wins whole, never a mix or a CONFLICT', async () => {
    const until = inHours(3);
    const a = [{ userId: id('nurse.er'), rooms: ['E2'] }];
    const b = [{ userId: id('nurse.er'), rooms: ['E3'] }, { userId: id('doctor.er'), rooms: ['E5'] }];
    // Eight at once: without the department lock two replace the same old rows and one insert hits the unique index.
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? f.admin : head).assignments.set.mutate({ departmentId: er, until, entries: i % 2 ? b : a })));
    const now = await operator.assignments.current.query({ departmentId: er });
    expect(results.map((r) => r.entries.length).sort()).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    expect([1, 2]).toContain(now.entries.length);
    expect(now.entries.flatMap((e) => e.rooms).sort()).toEqual(now.entries.length === 1 ? ['E2'] : ['E3', 'E5']);
  });

  it('counts only unexpired entries as current, and an expired charge nurse loses the right', async () => {
    await f.admin.assignments.set.mutate({ departmentId: icu, until: inHours(2), entries: [{ userId: id('nurse.icu'), rooms: ['305'], charge: true }] });
    expect((await f.nurse.assignments.current.query({ departmentId: icu })).entries).toHaveLength(1);
    // The input refuses a past until, so the shift is ended by SQL.
    await f.env.deps.db.execute(
      sql`UPDATE care_assignments SET starts_at = now() - interval '9 hours', until = now() - interval '1 minute' WHERE department_id = ${icu} AND replaced_at IS NULL`,
    );
    expect(await f.nurse.assignments.current.query({ departmentId: icu })).toEqual({ departmentId: icu, entries: [] });
    expect(await currentAssignments(f.env.deps.db, f.t.hospital.general.id, icu)).toEqual([]);
    expect((await trpcError(f.nurse.assignments.set.mutate({ departmentId: icu, until: inHours(2), entries: [] }))).code).toBe('FORBIDDEN');
    // With no charge nurse on shift, a nurse of the unit may start the shift only by naming herself charge…
    const plain = await freshUser(f, { role: 'nurse' });
    expect((await trpcError(f.nurse.assignments.set.mutate({ departmentId: icu, until: inHours(2), entries: [{ userId: plain.id, rooms: [], charge: true }] }))).code).toBe('FORBIDDEN');
    expect((await trpcError(f.nurse.assignments.set.mutate({ departmentId: er, until: inHours(2), entries: [{ userId: id('nurse.icu'), rooms: [], charge: true }] }))).code).toBe('FORBIDDEN');
    // A new set replaces the expired entries too (one unreplaced entry per person and department).
    const res = await f.nurse.assignments.set.mutate({ departmentId: icu, until: inHours(2), entries: [{ userId: id('nurse.icu'), rooms: ['305'], charge: true }] });
    expect(res.entries).toHaveLength(1);
    expect((await auditOf(f, 'assignment.set', icu)).at(-1)?.metadata).toMatchObject({ replaced: 1 });
    // …and once she is charge, another nurse of the unit may not take over by naming herself.
    const plainNurse = clientFor(f.server, await tokenFor(f, plain));
    expect((await trpcError(plainNurse.assignments.set.mutate({ departmentId: icu, until: inHours(2), entries: [{ userId: plain.id, rooms: [], charge: true }] }))).code).toBe('FORBIDDEN');
    expect((await head.assignments.set.mutate({ departmentId: icu, until: inHours(2), entries: [{ userId: id('nurse.icu'), rooms: ['305'], charge: true }] })).entries).toHaveLength(1);
  });
});

describe('assignments.set refuses bad lists, writing nothing', () => {
  const refuse = async (input: Parameters<typeof f.admin.assignments.set.mutate>[0], field: string, message?: RegExp) => {
    const before = await written();
    const err = await trpcError(f.admin.assignments.set.mutate(input));
    expect(err.code).toBe('BAD_REQUEST');
    expect(Object.keys(err.fieldErrors ?? {})).toContain(field);
    if (message) expect(Object.values(err.fieldErrors ?? {}).flat().join(' | ')).toMatch(message);
    expect(await written()).toEqual(before);
  };

  it('only active nurses and doctors of this hospital', async () => {
    const until = inHours(3);
    const riverNurse = f.t.user('riverside', 'nurse.icu').id;
    await refuse({ departmentId: icu, until, entries: [{ userId: riverNurse, rooms: ['301'] }] }, 'entries.0.userId', /No such nurse or doctor/);
    await refuse({ departmentId: icu, until, entries: [{ userId: 'no-such-user', rooms: [] }] }, 'entries.0.userId');
    await refuse({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: [] }, { userId: id('operator'), rooms: ['301'] }] }, 'entries.1.userId', /Only nurses and doctors/);
    const gone = await freshUser(f, { role: 'nurse' });
    await f.env.deps.db.execute(sql`UPDATE ${users} SET is_active = false WHERE id = ${gone.id}`);
    await refuse({ departmentId: icu, until, entries: [{ userId: gone.id, rooms: [] }] }, 'entries.0.userId', /deactivated/);
    await refuse({ departmentId: icu, until, entries: [{ userId: id('doctor.icu'), rooms: [], charge: true }] }, 'entries.0.charge', /must be a nurse/);
  });

  it('rooms of this department, each to one person; one charge nurse; each person once', async () => {
    const until = inHours(3);
    await refuse({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: ['E4'] }] }, 'entries.0.rooms', /Room E4 is in ER, not ICU/);
    await refuse({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: ['999'] }] }, 'entries.0.rooms', /Room 999 is not a room of ICU/);
    await refuse(
      { departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: ['301'] }, { userId: id('doctor.icu'), rooms: ['302', '301'] }] },
      'entries.1.rooms',
      /Room 301 is already assigned/,
    );
    await refuse({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: ['301', '301'] }] }, 'entries');
    const other = await freshUser(f, { role: 'nurse' });
    await refuse({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: [], charge: true }, { userId: other.id, rooms: [], charge: true }] }, 'entries.1.charge', /one charge/);
    await refuse({ departmentId: icu, until, entries: [{ userId: id('nurse.icu'), rooms: ['301'] }, { userId: id('nurse.icu'), rooms: ['302'] }] }, 'entries.1.userId', /twice/);
    // A room is matched in the department's spelling, whatever the case typed.
    const dept = await f.admin.hospitals.createDepartment.mutate({ code: 'WARDB', name: 'Ward B', rooms: ['B-1', 'B-2'] });
    const res = await f.admin.assignments.set.mutate({ departmentId: dept.id, until, entries: [{ userId: id('nurse.icu'), rooms: ['b-2'] }] });
    expect(res.entries[0]?.rooms).toEqual(['B-2']);
  });

  it('accepts any room where the department lists none', async () => {
    const dept = await f.admin.hospitals.createDepartment.mutate({ code: 'NOROOMS', name: 'No Rooms' });
    const res = await f.admin.assignments.set.mutate({ departmentId: dept.id, until: inHours(1), entries: [{ userId: id('nurse.er'), rooms: ['Hall 2'] }] });
    expect(res.entries[0]?.rooms).toEqual(['Hall 2']);
  });

  it('until in the future and at most 24 hours ahead; malformed input', async () => {
    const entries = [{ userId: id('nurse.icu'), rooms: ['301'] }];
    await refuse({ departmentId: icu, until: inHours(-1), entries }, 'until', /future/);
    await refuse({ departmentId: icu, until: inHours(24.5), entries }, 'until', /24 hours/);
    await refuse({ departmentId: icu, until: 'tomorrow', entries }, 'until');
    await refuse({ departmentId: icu, until: inHours(1), entries: [{ userId: id('nurse.icu'), rooms: ['x'.repeat(17)] }] }, 'entries');
    await refuse({ departmentId: icu, until: inHours(1), entries: [{ userId: id('nurse.icu'), rooms: [''] }] }, 'entries');
  });

  it('another hospital’s department is NOT_FOUND, for set and current; no session is UNAUTHORIZED', async () => {
    const river = f.t.hospital.riverside.departments.ICU;
    const before = await written();
    expect((await trpcError(f.admin.assignments.set.mutate({ departmentId: river, until: inHours(1), entries: [] }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.nurse.assignments.set.mutate({ departmentId: river, until: inHours(1), entries: [] }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.admin.assignments.current.query({ departmentId: river }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.admin.assignments.current.query({ departmentId: 'nope' }))).code).toBe('NOT_FOUND');
    expect(await written()).toEqual(before);
    // Riverside's admin sees its own ICU (whatever the seed put there), never General's entries.
    const riverList = await f.riversideAdmin.assignments.current.query({ departmentId: river });
    expect(riverList.entries.map((e) => e.userId).sort()).toEqual((await currentAssignments(f.env.deps.db, f.t.hospital.riverside.id, river)).map((e) => e.userId).sort());
    const generalIds = new Set((await f.env.deps.db.select({ id: users.id }).from(users).where(sql`${users.hospitalId} = ${f.t.hospital.general.id}`)).map((u) => u.id));
    expect(riverList.entries.some((e) => generalIds.has(e.userId))).toBe(false);
    expect((await trpcError(f.riversideAdmin.assignments.current.query({ departmentId: icu }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.anonymous.assignments.current.query({ departmentId: icu }))).code).toBe('UNAUTHORIZED');
    expect((await trpcError(f.anonymous.assignments.set.mutate({ departmentId: icu, until: inHours(1), entries: [] }))).code).toBe('UNAUTHORIZED');
  });
});
