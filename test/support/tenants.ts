import { eq, sql } from 'drizzle-orm';
import { createSession } from '../../server/auth/sessions.js';
import { departments, hospitals, users } from '../../server/db/schema.js';
import { type devAccounts, devEmail, devHospitals, seedDevelopment } from '../../server/seed/dev.js';
import type { TestEnv } from './env.js';

export type Slug = (typeof devHospitals)[number]['slug'];
export type Account = (typeof devAccounts)[number]['local'];

export interface SeededUser {
  id: string;
  email: string;
  role: string;
  hospitalId: string;
  departmentId: string | null;
}

export interface Tenants {
  hospital: Record<Slug, { id: string; departments: Record<'ER' | 'ICU' | 'CARD', string> }>;
  user(slug: Slug, account: Account): SeededUser;
  /** A live session token for a seeded account, opened directly (no login round trip). */
  token(slug: Slug, account: Account): Promise<string>;
}

/** The development data set (two hospitals, seven accounts each) in this file's database. */
export async function seedTenants(env: TestEnv): Promise<Tenants> {
  const db = env.deps.db;
  await seedDevelopment(env.deps);
  // Tests raise many identical alerts; duplicate suppression is switched on only where it is under test.
  await db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '0'::jsonb)`);
  const hospital = {} as Tenants['hospital'];
  for (const h of devHospitals) {
    const [row] = await db.select({ id: hospitals.id }).from(hospitals).where(eq(hospitals.slug, h.slug));
    const depts = await db.select().from(departments).where(eq(departments.hospitalId, row!.id));
    hospital[h.slug] = { id: row!.id, departments: Object.fromEntries(depts.map((d) => [d.code, d.id])) as Record<'ER' | 'ICU' | 'CARD', string> };
  }
  const all = await db.select().from(users);
  const byEmail = new Map(all.map((u) => [u.email, u]));
  const user = (slug: Slug, account: Account): SeededUser => {
    const u = byEmail.get(devEmail(account, slug));
    if (!u) throw new Error(`no seeded user ${account}@${slug}`);
    return { id: u.id, email: u.email, role: u.role, hospitalId: u.hospitalId, departmentId: u.departmentId };
  };
  return {
    hospital,
    user,
    async token(slug, account) {
      const u = user(slug, account);
      const { token } = await createSession(db, { userId: u.id, hospitalId: u.hospitalId, hours: 12, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
      return token;
    },
  };
}
