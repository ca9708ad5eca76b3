import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { alerts, departments, hospitals, users } from '../../server/db/schema.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv;
let hospitalId: string;
let otherHospitalId: string;
let deptId: string;
let otherDeptId: string;

/** The Postgres error code a failing statement raised. */
async function pgCode(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? 'unknown';
  }
  return 'no error';
}

beforeAll(async () => {
  env = await createTestEnv();
  const db = env.deps.db;
  const [h1, h2] = await db.insert(hospitals).values([{ name: 'A', slug: 'a' }, { name: 'B', slug: 'b' }]).returning();
  hospitalId = h1!.id;
  otherHospitalId = h2!.id;
  const [d1, d2] = await db
    .insert(departments)
    .values([{ hospitalId, name: 'ICU', code: 'ICU' }, { hospitalId: otherHospitalId, name: 'ICU', code: 'ICU' }])
    .returning();
  deptId = d1!.id;
  otherDeptId = d2!.id;
  await db.insert(users).values({ hospitalId, email: 'ann@a.test', name: 'Ann', role: 'operator' });
});

describe('the database itself rejects bad data', () => {
  it('rejects a role outside the enumeration', async () => {
    expect(await pgCode(() => env.deps.db.execute(sql`INSERT INTO users (hospital_id, email, name, role) VALUES (${hospitalId}, 'x@a.test', 'X', 'janitor')`))).toBe('22P02');
  });

  it('rejects a priority outside the enumeration', async () => {
    expect(
      await pgCode(() =>
        env.deps.db.execute(sql`INSERT INTO alerts (hospital_id, department_id, title, priority, alert_type) VALUES (${hospitalId}, ${deptId}, 'T', 'urgent', 'medical')`),
      ),
    ).toBe('22P02');
  });

  it('orders priorities low → critical, not alphabetically', async () => {
    const { rows } = await env.deps.db.execute<{ p: string }>(sql`SELECT unnest(enum_range(NULL::alert_priority))::text AS p`);
    expect(rows.map((r) => r.p)).toEqual(['low', 'medium', 'high', 'critical']);
  });

  it('rejects a dangling foreign key', async () => {
    expect(await pgCode(() => env.deps.db.insert(users).values({ hospitalId: 'no-such-hospital', email: 'y@a.test', name: 'Y', role: 'admin' }))).toBe('23503');
  });

  it('rejects a department of another hospital (composite foreign key)', async () => {
    expect(await pgCode(() => env.deps.db.insert(users).values({ hospitalId, departmentId: otherDeptId, email: 'z@a.test', name: 'Z', role: 'nurse' }))).toBe('23503');
    expect(
      await pgCode(() => env.deps.db.insert(alerts).values({ hospitalId, departmentId: otherDeptId, title: 'T', priority: 'low', alertType: 'medical' })),
    ).toBe('23503');
  });

  it('rejects a duplicate email, whatever its case', async () => {
    expect(await pgCode(() => env.deps.db.insert(users).values({ hospitalId, email: 'ann@a.test', name: 'Ann 2', role: 'operator' }))).toBe('23505');
    // Mixed case is refused outright: emails are stored lower-case.
    expect(await pgCode(() => env.deps.db.insert(users).values({ hospitalId, email: 'ANN@a.test', name: 'Ann 3', role: 'operator' }))).toBe('23514');
  });

  it('requires a department for nurses and doctors', async () => {
    expect(await pgCode(() => env.deps.db.insert(users).values({ hospitalId, email: 'n@a.test', name: 'N', role: 'nurse' }))).toBe('23514');
  });

  it('keeps department codes unique per hospital only', async () => {
    expect(await pgCode(() => env.deps.db.insert(departments).values({ hospitalId, name: 'Other ICU', code: 'ICU' }))).toBe('23505');
    expect(await pgCode(() => env.deps.db.insert(departments).values({ hospitalId: otherHospitalId, name: 'ER', code: 'ER' }))).toBe('no error');
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit rows', async () => {
    await env.deps.db.execute(sql`INSERT INTO audit_logs (hospital_id, action, outcome) VALUES (${hospitalId}, 'test.action', 'success')`);
    expect(await pgCode(() => env.deps.db.execute(sql`UPDATE audit_logs SET action = 'forged'`))).toBe('42501');
    expect(await pgCode(() => env.deps.db.execute(sql`DELETE FROM audit_logs`))).toBe('42501');
    expect(await pgCode(() => env.deps.db.execute(sql`TRUNCATE audit_logs`))).toBe('42501');
  });

  it('stores timestamps with time zone and UUIDv7 ids', async () => {
    const { rows } = await env.deps.db.execute<{ data_type: string }>(
      sql`SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'`,
    );
    expect(rows.map((r) => r.data_type)).toEqual(['timestamp with time zone']);
    const [h] = await env.deps.db.select({ id: hospitals.id }).from(hospitals).limit(1);
    expect(h!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
