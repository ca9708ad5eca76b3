import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, freshUser, setup, trpcError } from './helpers.js';

// users.directory: the pickers' staff list (who covers a shift, which nurse has a room) for any
// signed-in user — active colleagues of the caller's hospital only, names/roles/departments only.
let f: Fixture;

beforeAll(async () => {
  f = await setup();
  await freshUser(f, { role: 'nurse', name: 'Aaron Directory Nurse' });
  await freshUser(f, { role: 'nurse', slug: 'riverside', name: 'Riverside Directory Nurse' });
});

describe('users.directory', () => {
  it('lists the active staff of the caller’s hospital by name, with nothing but name, role and department', async () => {
    const list = await f.nurse.users.directory.query();
    const { rows } = await f.env.deps.db.execute<{ id: string }>(
      sql`SELECT id FROM users WHERE hospital_id = ${f.t.hospital.general.id} AND is_active ORDER BY name, id`,
    );
    expect(list.map((u) => u.id)).toEqual(rows.map((r) => r.id));
    expect(list.some((u) => u.name === 'Riverside Directory Nurse')).toBe(false);
    for (const u of list) expect(Object.keys(u).sort()).toEqual(['departmentId', 'departmentName', 'id', 'name', 'role']);
  });

  it('filters by department and role, and leaves out deactivated users', async () => {
    const icu = f.t.hospital.general.departments.ICU;
    const gone = await freshUser(f, { role: 'nurse', name: 'Gone Directory Nurse' });
    await f.env.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${gone.id}`);
    const nurses = await f.nurse.users.directory.query({ departmentId: icu, roles: ['nurse'] });
    expect(nurses.length).toBeGreaterThan(1);
    for (const u of nurses) expect(u).toMatchObject({ role: 'nurse', departmentId: icu, departmentName: 'Intensive Care' });
    expect(nurses.some((u) => u.name === 'Aaron Directory Nurse')).toBe(true);
    expect(nurses.some((u) => u.id === gone.id)).toBe(false);
  });

  it('another hospital’s department is NOT_FOUND; bad input is BAD_REQUEST; no token is UNAUTHORIZED', async () => {
    expect((await trpcError(f.nurse.users.directory.query({ departmentId: f.t.hospital.riverside.departments.ICU }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.nurse.users.directory.query({ roles: [] }))).code).toBe('BAD_REQUEST');
    expect((await trpcError(f.nurse.users.directory.query({ roles: ['janitor' as 'nurse'] }))).code).toBe('BAD_REQUEST');
    expect((await trpcError(f.anonymous.users.directory.query())).code).toBe('UNAUTHORIZED');
  });
});
