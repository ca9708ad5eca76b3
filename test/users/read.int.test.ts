import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../server/db/schema.js';
import { userSearchCondition } from '../../server/users/service.js';
import { clientFor } from '../support/server.js';
import { auditOf, counts, type Fixture, freshUser, setup, tokenFor, trpcError, USER_KEYS } from './helpers.js';

let f: Fixture;

beforeAll(async () => {
  f = await setup();
  // 25 users whose names share a word, for paging; created out of name order on purpose.
  for (const i of [7, 3, 25, 1, 12, 9, 18, 2, 22, 15, 5, 11, 20, 4, 14, 8, 24, 6, 16, 10, 23, 13, 19, 17, 21]) {
    await freshUser(f, { name: `Pager ${String(i).padStart(2, '0')}`, email: `pager${i}@general.test` });
  }
  await freshUser(f, { name: 'Zoë MixedCase', email: 'zoe.MIXED'.toLowerCase() + '@general.test' });
  await freshUser(f, { name: '100% Sure_Name', email: 'percent@general.test' });
  await freshUser(f, { name: 'Pager Riverside', email: 'pager.river@riverside.test', slug: 'riverside' });
});

describe('users.getAll', () => {
  it('lists the hospital users ordered by name, with departments, and never a secret field', async () => {
    const res = await f.admin.users.getAll.query({ page: 1, limit: 100 });
    expect(res.total).toBe(7 + 25 + 2);
    expect(res.totalPages).toBe(1);
    // Ordered by name then id, in the database's collation.
    const { rows } = await f.env.deps.db.execute<{ id: string }>(sql`SELECT id FROM users WHERE hospital_id = ${f.t.hospital.general.id} ORDER BY name, id`);
    expect(res.users.map((u) => u.id)).toEqual(rows.map((r) => r.id));
    for (const u of res.users) {
      expect(Object.keys(u).sort()).toEqual(USER_KEYS);
      expect(u.hospitalId).toBe(f.t.hospital.general.id);
    }
    const nurse = res.users.find((u) => u.email === 'nurse.icu@general.test');
    expect(nurse).toMatchObject({ role: 'nurse', departmentName: 'Intensive Care', isActive: true, mustChangePassword: false });
    expect(typeof nurse?.createdAt).toBe('string');
    expect(JSON.stringify(res)).not.toMatch(/scrypt\$|password_?hash|two_?factor_?secret/i);
  });

  it('searches name and email case-insensitively, and pages the result', async () => {
    const byName = await f.admin.users.getAll.query({ search: 'mIxEdCaSe' });
    expect(byName.users.map((u) => u.name)).toEqual(['Zoë MixedCase']);
    const byEmail = await f.admin.users.getAll.query({ search: 'ZOE.MIXED@' });
    expect(byEmail.total).toBe(1);

    const pages = [];
    for (const page of [1, 2, 3, 4]) pages.push(await f.admin.users.getAll.query({ search: 'PAGER', page, limit: 10 }));
    expect(pages.map((p) => p.users.length)).toEqual([10, 10, 5, 0]);
    for (const p of pages) expect(p).toMatchObject({ total: 25, totalPages: 3 });
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3, 4]);
    const names = pages.flatMap((p) => p.users.map((u) => u.name));
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `Pager ${String(i + 1).padStart(2, '0')}`));
  });

  it('treats LIKE wildcards in the search as text', async () => {
    expect((await f.admin.users.getAll.query({ search: '%' })).users.map((u) => u.name)).toEqual(['100% Sure_Name']);
    expect((await f.admin.users.getAll.query({ search: '_' })).users.map((u) => u.name)).toEqual(['100% Sure_Name']);
    expect((await f.admin.users.getAll.query({ search: 'e_n' })).users.map((u) => u.name)).toEqual(['100% Sure_Name']);
    expect((await f.admin.users.getAll.query({ search: '\\' })).total).toBe(0);
  });

  it('filters by role, department and active state, and stays inside the hospital', async () => {
    const nurses = await f.admin.users.getAll.query({ role: 'nurse' });
    expect(nurses.users.map((u) => u.email).sort()).toEqual(['nurse.er@general.test', 'nurse.icu@general.test']);
    const icu = await f.admin.users.getAll.query({ departmentId: f.t.hospital.general.departments.ICU });
    expect(icu.users.map((u) => u.email).sort()).toEqual(['doctor.icu@general.test', 'nurse.icu@general.test']);
    expect((await f.admin.users.getAll.query({ isActive: false })).total).toBe(0);
    // Another hospital's department and another hospital's users are simply not there.
    expect((await f.admin.users.getAll.query({ departmentId: f.t.hospital.riverside.departments.ICU })).total).toBe(0);
    expect((await f.admin.users.getAll.query({ search: 'riverside' })).total).toBe(0);
    expect((await f.riversideAdmin.users.getAll.query({ search: 'pager' })).users.map((u) => u.name)).toEqual(['Pager Riverside']);
  });

  it('uses the trigram index for the search condition', async () => {
    const query = f.env.deps.db.select({ id: users.id }).from(users).where(userSearchCondition('mixed')).toSQL();
    const client = await f.env.deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = await client.query(`EXPLAIN ${query.sql}`, query.params);
      await client.query('ROLLBACK');
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('users_search_trgm_idx');
    } finally {
      client.release();
    }
  });

  it('refuses callers without a session, roles without user.manage, and malformed input', async () => {
    expect((await trpcError(f.anonymous.users.getAll.query({}))).code).toBe('UNAUTHORIZED');
    expect((await trpcError(f.nurse.users.getAll.query({}))).code).toBe('FORBIDDEN');
    const bad = await trpcError(f.admin.users.getAll.query({ limit: 101, page: 0 }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(Object.keys(bad.fieldErrors ?? {}).sort()).toEqual(['limit', 'page']);
    expect((await trpcError(f.admin.users.getAll.query({ role: 'janitor' as 'nurse' }))).fieldErrors?.role).toBeDefined();
  });
});

describe('users.getById', () => {
  it('lets an admin read a user of the hospital, and audits the view', async () => {
    const nurse = f.t.user('general', 'nurse.icu');
    const user = await f.admin.users.getById.query({ id: nurse.id });
    expect(user).toMatchObject({ id: nurse.id, email: nurse.email, departmentName: 'Intensive Care' });
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    const rows = await auditOf(f, 'user.viewed', nurse.id);
    expect(rows.at(-1)).toMatchObject({ outcome: 'success', user_id: f.t.user('general', 'admin').id, hospital_id: f.t.hospital.general.id, resource: 'user' });
  });

  it('lets anyone read their own record, but not another one', async () => {
    const self = f.t.user('general', 'nurse.icu');
    expect((await f.nurse.users.getById.query({ id: self.id })).email).toBe(self.email);
    const other = f.t.user('general', 'doctor.icu');
    const before = await auditOf(f, 'user.viewed', other.id);
    expect((await trpcError(f.nurse.users.getById.query({ id: other.id }))).code).toBe('FORBIDDEN');
    // The refused view is audited as a failure; an id that does not exist is refused the same way.
    expect((await auditOf(f, 'user.viewed', other.id)).length).toBe(before.length + 1);
    expect((await auditOf(f, 'user.viewed', other.id)).at(-1)?.outcome).toBe('failure');
    expect((await trpcError(f.nurse.users.getById.query({ id: 'no-such-user' }))).code).toBe('FORBIDDEN');
  });

  it('answers NOT_FOUND for another hospital’s user and for unknown ids', async () => {
    const river = f.t.user('riverside', 'nurse.icu');
    expect((await trpcError(f.admin.users.getById.query({ id: river.id }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.admin.users.getById.query({ id: '0190e0e0-0000-7000-8000-000000000000' }))).code).toBe('NOT_FOUND');
  });

  it('refuses callers without a session and malformed input, writing nothing', async () => {
    const before = await counts(f);
    expect((await trpcError(f.anonymous.users.getById.query({ id: f.t.user('general', 'admin').id }))).code).toBe('UNAUTHORIZED');
    const bad = await trpcError(f.admin.users.getById.query({ id: '' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.fieldErrors?.id).toBeDefined();
    expect(await counts(f)).toEqual(before);
  });

  it('gates a user who must change their password to the auth router', async () => {
    const user = await freshUser(f, { role: 'operator' });
    await f.env.deps.db.execute(sql`UPDATE users SET must_change_password = true WHERE id = ${user.id}`);
    const client = clientFor(f.server, await tokenFor(f, user));
    expect((await trpcError(client.users.getById.query({ id: user.id }))).code).toBe('FORBIDDEN');
  });
});
