import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { hospitals } from '../../server/db/schema.js';
import { defaultHospitalSettings, readSettings } from '../../server/hospitals/settings.js';
import { auditOf, counts, type Fixture, setup, trpcError } from '../users/helpers.js';

let f: Fixture;

beforeAll(async () => {
  f = await setup();
});

const storedSettings = async (slug: 'general' | 'riverside') =>
  (await f.env.deps.db.select({ s: hospitals.settings }).from(hospitals).where(eq(hospitals.id, f.t.hospital[slug].id)))[0]?.s;

describe('hospitals.getCurrent and hospitals.getDepartments', () => {
  it('answers any signed-in user with their own hospital and its parsed settings', async () => {
    const h = await f.nurse.hospitals.getCurrent.query();
    expect(h).toMatchObject({ id: f.t.hospital.general.id, name: 'General Hospital', slug: 'general', address: '1 Main Street', isActive: true, licenseNumber: null });
    // The seed and the test set-up tune two fields (2FA requirement, dedup window); the rest is the defaults.
    expect(h.settings).toEqual(readSettings(await storedSettings('general')));
    expect(h.settings).toEqual({ ...defaultHospitalSettings, requireTwoFactorFor: h.settings.requireTwoFactorFor, dedupWindowSeconds: 0 });
    expect((await f.riversideAdmin.hospitals.getCurrent.query()).slug).toBe('riverside');
    // No settings.timezone: schedules run in the server's CLARION_TIMEZONE, which the answer names.
    expect(h.settings.timezone).toBeUndefined();
    expect(h.timezone).toBe(f.env.deps.config.defaultTimezone);
  });

  it('reads stored settings over the defaults, so rows missing a newer field still parse', async () => {
    await f.env.deps.db.update(hospitals).set({ settings: { sessionHours: 8 } }).where(eq(hospitals.id, f.t.hospital.riverside.id));
    const h = await f.riversideAdmin.hospitals.getCurrent.query();
    expect(h.settings).toEqual({ ...defaultHospitalSettings, sessionHours: 8 });
    await f.env.deps.db.update(hospitals).set({ settings: { sessionHours: 8, timezone: 'America/Chicago' } }).where(eq(hospitals.id, f.t.hospital.riverside.id));
    expect((await f.riversideAdmin.hospitals.getCurrent.query()).timezone).toBe('America/Chicago');
  });

  it('lists the departments of the caller’s hospital only', async () => {
    const depts = await f.nurse.hospitals.getDepartments.query();
    expect(depts.map((d) => d.code).sort()).toEqual(['CARD', 'ER', 'ICU']);
    expect(depts.every((d) => Object.values(f.t.hospital.general.departments).includes(d.id))).toBe(true);
    expect(depts[0] && Object.keys(depts[0]).sort()).toEqual(['code', 'id', 'isActive', 'name', 'rooms']);
  });

  it('refuses callers without a session', async () => {
    expect((await trpcError(f.anonymous.hospitals.getCurrent.query())).code).toBe('UNAUTHORIZED');
    expect((await trpcError(f.anonymous.hospitals.getDepartments.query())).code).toBe('UNAUTHORIZED');
  });
});

describe('hospitals.updateSettings', () => {
  it('deep-merges objects, replaces arrays, validates the result and audits the changed keys', async () => {
    const riversideBefore = await storedSettings('riverside');
    const res = await f.admin.hospitals.updateSettings.mutate({
      escalation: { critical: { levelTimeoutsSeconds: [30, 60] }, high: { ackTimeoutSeconds: 120 } },
      requireTwoFactorFor: ['admin', 'head_doctor'],
    });
    expect(res).toEqual({
      ...defaultHospitalSettings,
      escalation: {
        ...defaultHospitalSettings.escalation,
        critical: { levelTimeoutsSeconds: [30, 60] },
        high: { ...defaultHospitalSettings.escalation.high, ackTimeoutSeconds: 120 },
      },
      requireTwoFactorFor: ['admin', 'head_doctor'],
      dedupWindowSeconds: 0,
    });
    expect(await storedSettings('general')).toEqual(res);
    expect((await f.admin.hospitals.getCurrent.query()).settings).toEqual(res);
    expect(await storedSettings('riverside')).toEqual(riversideBefore);
    const [row] = await auditOf(f, 'hospital.settings_updated', f.t.hospital.general.id);
    expect(row).toMatchObject({ outcome: 'success', user_id: f.t.user('general', 'admin').id, resource: 'hospital' });
    expect(row?.metadata?.changed).toEqual(['escalation.critical.levelTimeoutsSeconds', 'escalation.high.ackTimeoutSeconds', 'requireTwoFactorFor']);

    // null removes the optional acknowledgement timeout; a patch that changes nothing writes nothing.
    const cleared = await f.admin.hospitals.updateSettings.mutate({ escalation: { high: { ackTimeoutSeconds: null } } });
    expect(cleared.escalation.high).toEqual(defaultHospitalSettings.escalation.high);
    const before = await counts(f);
    await f.admin.hospitals.updateSettings.mutate({ sessionHours: cleared.sessionHours });
    expect(await counts(f)).toEqual(before);
  });

  it('refuses malformed settings (bad values, unknown keys) with field errors, writing nothing', async () => {
    const before = await counts(f);
    const bad = await trpcError(f.admin.hospitals.updateSettings.mutate({ sessionHours: 0, escalation: { low: { levelTimeoutsSeconds: [] } } }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(Object.keys(bad.fieldErrors ?? {}).sort()).toEqual(['escalation', 'sessionHours']);
    const unknown = await trpcError(f.admin.hospitals.updateSettings.mutate({ sessionHour: 3 } as never));
    expect(unknown.code).toBe('BAD_REQUEST');
    const role = await trpcError(f.admin.hospitals.updateSettings.mutate({ requireTwoFactorFor: ['janitor' as 'admin'] }));
    expect(role.fieldErrors?.requireTwoFactorFor).toBeDefined();
    expect(await counts(f)).toEqual(before);
  });

  it('refuses roles without settings.manage and anonymous callers', async () => {
    expect((await trpcError(f.nurse.hospitals.updateSettings.mutate({ sessionHours: 2 }))).code).toBe('FORBIDDEN');
    expect((await trpcError(f.anonymous.hospitals.updateSettings.mutate({ sessionHours: 2 }))).code).toBe('UNAUTHORIZED');
  });
});

describe('hospitals.createDepartment and hospitals.updateDepartment', () => {
  it('creates a department (code upper-cased) and audits it; codes are unique per hospital', async () => {
    const dept = await f.admin.hospitals.createDepartment.mutate({ code: 'peds', name: 'Paediatrics' });
    expect(dept).toMatchObject({ code: 'PEDS', name: 'Paediatrics', isActive: true });
    expect((await f.nurse.hospitals.getDepartments.query()).map((d) => d.code)).toContain('PEDS');
    expect((await auditOf(f, 'department.created', dept.id))[0]).toMatchObject({ outcome: 'success', metadata: { code: 'PEDS', name: 'Paediatrics' } });
    // Another hospital may use the same code.
    expect((await f.riversideAdmin.hospitals.createDepartment.mutate({ code: 'PEDS', name: 'Children' })).code).toBe('PEDS');

    const before = await counts(f);
    const dup = await trpcError(f.admin.hospitals.createDepartment.mutate({ code: 'Peds', name: 'Again' }));
    expect(dup.code).toBe('CONFLICT');
    expect(dup.message).toMatch(/code PEDS already exists/);
    const after = await counts(f);
    expect(after.departments).toBe(before.departments);
    expect(after.audit).toBe(before.audit + 1);
    expect((await auditOf(f, 'department.created')).at(-1)?.outcome).toBe('failure');
  });

  it('renames, recodes and deactivates a department; an inactive one takes no new users', async () => {
    const dept = await f.admin.hospitals.createDepartment.mutate({ code: 'TMP', name: 'Temporary' });
    const renamed = await f.admin.hospitals.updateDepartment.mutate({ id: dept.id, name: 'Temporary Ward', code: 'tmp2' });
    expect(renamed).toEqual({ id: dept.id, code: 'TMP2', name: 'Temporary Ward', isActive: true, rooms: [] });
    const off = await f.admin.hospitals.updateDepartment.mutate({ id: dept.id, isActive: false });
    expect(off.isActive).toBe(false);
    const rows = await auditOf(f, 'department.updated', dept.id);
    expect(rows.map((r) => r.metadata?.changed)).toEqual([['code', 'name'], ['isActive']]);
    const err = await trpcError(f.admin.users.create.mutate({ name: 'Late Nurse', email: 'late@general.test', role: 'nurse', departmentId: dept.id }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.fieldErrors?.departmentId?.[0]).toMatch(/inactive/);
    expect((await f.admin.hospitals.updateDepartment.mutate({ id: dept.id, isActive: true })).isActive).toBe(true);
    expect((await trpcError(f.admin.hospitals.updateDepartment.mutate({ id: dept.id, code: 'ICU' }))).code).toBe('CONFLICT');
  });

  it('keeps department rooms: trimmed, listed by getDepartments, audited, one department per room', async () => {
    const dept = await f.admin.hospitals.createDepartment.mutate({ code: 'WARD5', name: 'Ward Five', rooms: [' 501 ', '502'] });
    expect(dept.rooms).toEqual(['501', '502']);
    expect((await auditOf(f, 'department.created', dept.id))[0]?.metadata).toMatchObject({ rooms: ['501', '502'] });
    const updated = await f.admin.hospitals.updateDepartment.mutate({ id: dept.id, rooms: ['501', '502', '503'] });
    expect(updated.rooms).toEqual(['501', '502', '503']);
    expect((await f.nurse.hospitals.getDepartments.query()).find((d) => d.id === dept.id)?.rooms).toEqual(['501', '502', '503']);
    const rows = await auditOf(f, 'department.updated', dept.id);
    expect(rows.at(-1)?.metadata).toMatchObject({ changed: ['rooms'], changes: { rooms: { from: ['501', '502'], to: ['501', '502', '503'] } } });
    // The same list again changes nothing and writes nothing.
    const before = await counts(f);
    await f.admin.hospitals.updateDepartment.mutate({ id: dept.id, rooms: ['501', '502', '503'] });
    expect(await counts(f)).toEqual(before);

    // A room another department of the hospital lists (any case) is refused, on create and on update.
    const seeded = (await f.admin.hospitals.getDepartments.query()).find((d) => d.code === 'ICU');
    const icuRoom = seeded?.rooms[0] as string;
    expect(icuRoom).toBeDefined();
    const taken = await trpcError(f.admin.hospitals.updateDepartment.mutate({ id: dept.id, rooms: ['501', icuRoom.toLowerCase()] }));
    expect(taken.code).toBe('BAD_REQUEST');
    expect(taken.fieldErrors?.rooms?.[0]).toMatch(new RegExp(`Room ${icuRoom} is already in ICU`));
    const takenNew = await trpcError(f.admin.hospitals.createDepartment.mutate({ code: 'WARD6', name: 'Ward Six', rooms: ['503'] }));
    expect(takenNew.fieldErrors?.rooms?.[0]).toMatch(/Room 503 is already in WARD5/);
    // Another hospital may number its rooms the same way.
    const river = await f.riversideAdmin.hospitals.createDepartment.mutate({ code: 'WARD5', name: 'Ward Five', rooms: ['501'] });
    expect(river.rooms).toEqual(['501']);
    expect(await counts(f)).toMatchObject({ departments: before.departments + 1, audit: before.audit + 1 });
  });

  it('refuses malformed rooms with a field error, writing nothing', async () => {
    const before = await counts(f);
    const er = f.t.hospital.general.departments.ER;
    for (const rooms of [[''], ['   '], ['x'.repeat(17)], ['7', '7'], ['A1', 'a1'], Array.from({ length: 201 }, (_, i) => `R${i}`), ['bad\u0007']]) {
      const err = await trpcError(f.admin.hospitals.updateDepartment.mutate({ id: er, rooms }));
      expect(err.code).toBe('BAD_REQUEST');
      expect(Object.keys(err.fieldErrors ?? {})).toEqual(['rooms']);
    }
    expect(await counts(f)).toEqual(before);
  });

  it('answers NOT_FOUND for another hospital’s department', async () => {
    const before = await counts(f);
    const river = f.t.hospital.riverside.departments.ER;
    expect((await trpcError(f.admin.hospitals.updateDepartment.mutate({ id: river, name: 'Taken over' }))).code).toBe('NOT_FOUND');
    expect(await counts(f)).toEqual(before);
  });

  it('refuses malformed input, roles without department.manage and anonymous callers, writing nothing', async () => {
    const before = await counts(f);
    const bad = await trpcError(f.admin.hospitals.createDepartment.mutate({ code: 'WAY-TOO-LONG', name: 'X' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(Object.keys(bad.fieldErrors ?? {}).sort()).toEqual(['code', 'name']);
    const badUpdate = await trpcError(f.admin.hospitals.updateDepartment.mutate({ id: f.t.hospital.general.departments.ER, code: 'E R' }));
    expect(badUpdate.fieldErrors?.code).toBeDefined();
    const er = f.t.hospital.general.departments.ER;
    expect((await trpcError(f.nurse.hospitals.createDepartment.mutate({ code: 'NOPE', name: 'Nope' }))).code).toBe('FORBIDDEN');
    expect((await trpcError(f.nurse.hospitals.updateDepartment.mutate({ id: er, name: 'Nope' }))).code).toBe('FORBIDDEN');
    expect((await trpcError(f.anonymous.hospitals.createDepartment.mutate({ code: 'NOPE', name: 'Nope' }))).code).toBe('UNAUTHORIZED');
    expect((await trpcError(f.anonymous.hospitals.updateDepartment.mutate({ id: er, name: 'Nope' }))).code).toBe('UNAUTHORIZED');
    expect(await counts(f)).toEqual(before);
  });
});
