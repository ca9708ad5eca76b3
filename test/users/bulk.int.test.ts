import { eq, inArray, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../server/auth/passwords.js';
import { departments, users } from '../../server/db/schema.js';
import { auditOf, counts, type Fixture, setup, trpcError, USER_KEYS } from './helpers.js';

let f: Fixture;

beforeAll(async () => {
  f = await setup();
});

const rowsOf = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    name: `${prefix} Nurse ${i}`,
    email: `${prefix.toLowerCase()}.${i}@general.test`,
    role: i % 3 === 0 ? 'doctor' : 'nurse',
    departmentCode: ['ER', 'icu', 'CARD'][i % 3] as string,
    licenseNumber: `RN-${i}`,
  }));

describe('users.bulkCreate', () => {
  it('creates 100 users in one transaction, each with a temporary password (timed, printed)', async () => {
    const before = await counts(f);
    const started = performance.now();
    const res = await f.admin.users.bulkCreate.mutate({ users: rowsOf('Ward', 100) });
    const ms = Math.round(performance.now() - started);
    console.log(`users.bulkCreate: 100 users in ${ms} ms (HTTP round trip included)`);
    expect(res.created).toHaveLength(100);
    expect(res.created.map((c) => c.user.email)).toEqual(rowsOf('Ward', 100).map((r) => r.email));
    const first = res.created[1];
    expect(first?.user).toMatchObject({ role: 'nurse', departmentName: 'Intensive Care', mustChangePassword: true, licenseNumber: 'RN-1', hospitalId: f.t.hospital.general.id });
    expect(Object.keys(first?.user ?? {}).sort()).toEqual(USER_KEYS);
    expect(new Set(res.created.map((c) => c.temporaryPassword)).size).toBe(100);
    const [stored] = await f.env.deps.db.select({ h: users.passwordHash }).from(users).where(eq(users.id, first?.user.id ?? ''));
    expect(await verifyPassword(first?.temporaryPassword ?? '', stored?.h ?? '')).toBe(true);

    const after = await counts(f);
    expect(after.users).toBe(before.users + 100);
    // One user.created and one account.setup_link_issued row per user plus the summary, all in the
    // import's transaction.
    expect(after.audit).toBe(before.audit + 201);
    expect(res.created.every((c) => c.setupLink.url?.includes('/setup?token=') && !c.setupLink.emailed)).toBe(true);
    const [summary] = await auditOf(f, 'user.bulk_created');
    expect(summary).toMatchObject({ outcome: 'success', metadata: { count: 100 } });
    expect((await auditOf(f, 'user.created', first?.user.id)).length).toBe(1);
    // A second import, with the process warm (the first call also pays module and JIT warm-up).
    const warmStart = performance.now();
    expect((await f.admin.users.bulkCreate.mutate({ users: rowsOf('Warm', 100) })).created).toHaveLength(100);
    console.log(`users.bulkCreate: 100 more users in ${Math.round(performance.now() - warmStart)} ms (warm)`);
    // The multi-row audit insert is chained row by row like any other.
    const { rows } = await f.env.deps.db.execute<{ rows_checked: string; problem: string | null }>(
      sql`SELECT rows_checked, problem FROM audit_verify(${f.t.hospital.general.id})`,
    );
    expect(rows[0]?.problem).toBeNull();
    expect(Number(rows[0]?.rows_checked)).toBeGreaterThanOrEqual(101);
  });

  it('is all-or-nothing and names every bad row', async () => {
    const foreignDept = f.t.hospital.riverside.departments.ER;
    const batch = [
      { name: 'Good One', email: 'good.one@general.test', role: 'operator' },
      { name: 'Dup In Batch', email: 'GOOD.ONE@general.test', role: 'operator' },
      { name: 'Existing', email: 'nurse.icu@general.test', role: 'nurse', departmentCode: 'ICU' },
      { name: 'Bad Code', email: 'bad.code@general.test', role: 'nurse', departmentCode: 'NOPE' },
      { name: 'Foreign Dept', email: 'foreign@general.test', role: 'nurse', departmentId: foreignDept },
      { name: 'Admin Role', email: 'admin.role@general.test', role: 'admin' },
      { name: 'Janitor', email: 'janitor@general.test', role: 'janitor' },
      { name: 'No Dept', email: 'no.dept@general.test', role: 'doctor' },
      { name: 'X', email: 'not-an-email', role: 'operator' },
      { name: 'Good Two', email: 'good.two@general.test', role: 'head_doctor' },
    ];
    const before = await counts(f);
    const err = await trpcError(f.admin.users.bulkCreate.mutate({ users: batch }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/8 of 10 rows have errors; nothing was created/);
    expect(Object.keys(err.fieldErrors ?? {}).sort()).toEqual([
      'users.1.email',
      'users.2.email',
      'users.3.departmentCode',
      'users.4.departmentId',
      'users.5.role',
      'users.6.role',
      'users.7.departmentId',
      'users.8.email',
      'users.8.name',
    ]);
    expect(err.fieldErrors?.['users.1.email']?.[0]).toMatch(/Duplicate of row 0/);
    expect(err.fieldErrors?.['users.2.email']?.[0]).toMatch(/already in use/);
    expect(await counts(f)).toEqual(before);
    const good = await f.env.deps.db.select().from(users).where(inArray(users.email, ['good.one@general.test', 'good.two@general.test']));
    expect(good).toHaveLength(0);
  });

  it('refuses an inactive department', async () => {
    const [dept] = await f.env.deps.db.insert(departments).values({ hospitalId: f.t.hospital.general.id, code: 'OLD', name: 'Old wing', isActive: false }).returning();
    const err = await trpcError(f.admin.users.bulkCreate.mutate({ users: [{ name: 'Old Nurse', email: 'old@general.test', role: 'nurse', departmentId: dept?.id }] }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.fieldErrors?.['users.0.departmentId']?.[0]).toMatch(/inactive/);
  });

  it('refuses malformed input (empty, over 500 rows, wrong types), other roles and anonymous callers, writing nothing', async () => {
    const before = await counts(f);
    const empty = await trpcError(f.admin.users.bulkCreate.mutate({ users: [] }));
    expect(empty.code).toBe('BAD_REQUEST');
    expect(empty.fieldErrors?.users).toBeDefined();
    const tooMany = await trpcError(f.admin.users.bulkCreate.mutate({ users: rowsOf('Many', 501) }));
    expect(tooMany.code).toBe('BAD_REQUEST');
    expect(tooMany.fieldErrors?.users?.[0]).toMatch(/At most 500/);
    const wrongType = await trpcError(f.admin.users.bulkCreate.mutate({ users: [{ name: 1, email: 'x@general.test', role: 'nurse' } as never] }));
    expect(wrongType.code).toBe('BAD_REQUEST');
    expect((await trpcError(f.nurse.users.bulkCreate.mutate({ users: rowsOf('Nope', 1) }))).code).toBe('FORBIDDEN');
    expect((await trpcError(f.anonymous.users.bulkCreate.mutate({ users: rowsOf('Nope', 1) }))).code).toBe('UNAUTHORIZED');
    expect(await counts(f)).toEqual(before);
  });
});
