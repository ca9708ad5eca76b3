import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashToken } from '../../server/auth/sessions.js';
import { dropDatabase, ensureDatabase } from '../../server/db/admin.js';
import { createDatabase } from '../../server/db/client.js';
import { migrateUp } from '../../server/db/migrator.js';
import { departments, hospitals, sessions, users } from '../../server/db/schema.js';
import { defaultHospitalSettings } from '../../server/hospitals/settings.js';
import type { Role } from '../../server/permissions.js';

const MIGRATIONS = new URL('../../migrations', import.meta.url).pathname;

export interface LoadUser {
  id: string;
  role: Role;
  /** Index into `departments`, or null for whole-hospital roles. */
  dept: number | null;
  token: string;
}

export interface Fixture {
  hospitalId: string;
  departments: { id: string; code: string }[];
  subscribers: LoadUser[];
  operators: LoadUser[];
  admins: LoadUser[];
  /** API nurses per department (they acknowledge). */
  nurses: LoadUser[][];
}

export interface FixtureOptions {
  subscribers: number;
  departments: number;
  /** Fraction of subscribers that are head doctors (whole hospital); the rest are nurses and doctors. */
  headShare: number;
  operators: number;
  admins: number;
  nursesPerDept: number;
  /** Filler users so users.getAll pages something realistic. */
  extraUsers: number;
}

/** A fresh, migrated database: dropped and recreated, so every run starts from the same state. */
export async function freshDatabase(url: string, migrationsDir = MIGRATIONS): Promise<void> {
  await dropDatabase(url);
  await ensureDatabase(url);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrateUp(pool, migrationsDir);
  } finally {
    await pool.end();
  }
}

async function insertChunked<T>(items: T[], size: number, fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await fn(items.slice(i, i + size));
}

/**
 * One hospital with `departments` departments and the generated users, each with a live session
 * opened directly (the same rows createSession writes: only the token's SHA-256 is stored).
 */
export async function seedFixture(url: string, o: FixtureOptions): Promise<Fixture> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const db = createDatabase(pool);
  try {
    const run = randomBytes(3).toString('hex');
    const [h] = await db
      .insert(hospitals)
      .values({ name: 'Load Test Hospital', slug: `load-${run}`, settings: { ...defaultHospitalSettings, requireTwoFactorFor: [] } })
      .returning({ id: hospitals.id });
    const hospitalId = (h as { id: string }).id;
    const depts = await db
      .insert(departments)
      .values(Array.from({ length: o.departments }, (_, i) => ({ hospitalId, code: `D${i + 1}`, name: `Ward ${i + 1}` })))
      .returning({ id: departments.id, code: departments.code });

    type Spec = { role: Role; dept: number | null; group: 'sub' | 'op' | 'admin' | 'nurse' | 'extra' };
    const specs: Spec[] = [];
    const heads = Math.round(o.subscribers * o.headShare);
    for (let i = 0; i < o.subscribers; i++) {
      if (i < heads) specs.push({ role: 'head_doctor', dept: null, group: 'sub' });
      else specs.push({ role: i % 2 ? 'doctor' : 'nurse', dept: (i - heads) % o.departments, group: 'sub' });
    }
    for (let i = 0; i < o.operators; i++) specs.push({ role: 'operator', dept: null, group: 'op' });
    for (let i = 0; i < o.admins; i++) specs.push({ role: 'admin', dept: null, group: 'admin' });
    for (let d = 0; d < o.departments; d++) for (let i = 0; i < o.nursesPerDept; i++) specs.push({ role: 'nurse', dept: d, group: 'nurse' });
    for (let i = 0; i < o.extraUsers; i++) specs.push({ role: i % 3 ? 'nurse' : 'doctor', dept: i % o.departments, group: 'extra' });

    const loaded: (LoadUser & { group: Spec['group'] })[] = [];
    await insertChunked(specs.map((s, i) => ({ s, i })), 1_000, async (chunk) => {
      const rows = await db
        .insert(users)
        .values(
          chunk.map(({ s, i }) => ({
            hospitalId,
            departmentId: s.dept === null ? null : (depts[s.dept] as { id: string }).id,
            email: `${s.group}${i}.${s.role.replace('_', '-')}@load-${run}.test`,
            emailVerified: true,
            name: `Load ${s.role} ${i}`,
            role: s.role,
          })),
        )
        .returning({ id: users.id });
      rows.forEach((r, k) => {
        const s = (chunk[k] as { s: Spec }).s;
        loaded.push({ id: r.id, role: s.role, dept: s.dept, token: randomBytes(32).toString('base64url'), group: s.group });
      });
    });
    const withSessions = loaded.filter((u) => u.group !== 'extra');
    const expiresAt = new Date(Date.now() + 12 * 3_600_000);
    await insertChunked(withSessions, 1_000, (chunk) =>
      db.insert(sessions).values(
        chunk.map((u) => ({ userId: u.id, hospitalId, tokenHash: hashToken(u.token), expiresAt, ipAddress: '127.0.0.1', userAgent: 'clarion-load', twoFactorVerified: true })),
      ),
    );
    const strip = ({ group: _g, ...u }: LoadUser & { group: string }): LoadUser => u;
    const of = (g: Spec['group']) => loaded.filter((u) => u.group === g).map(strip);
    const nurses = depts.map((_, d) => of('nurse').filter((u) => u.dept === d));
    return { hospitalId, departments: depts, subscribers: of('sub'), operators: of('op'), admins: of('admin'), nurses };
  } finally {
    await pool.end();
  }
}
