import { sql } from 'drizzle-orm';
import { createSession } from '../../server/auth/sessions.js';
import { users } from '../../server/db/schema.js';
import type { Role } from '../../server/permissions.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

export interface Fixture {
  env: TestEnv;
  server: TestServer;
  t: Tenants;
  /** Clients of the seeded accounts used by most tests, and one without a token. */
  admin: ReturnType<typeof clientFor>;
  nurse: ReturnType<typeof clientFor>;
  riversideAdmin: ReturnType<typeof clientFor>;
  anonymous: ReturnType<typeof clientFor>;
}

/** This file's database and Redis prefix, the real server, the two seeded hospitals and clients. */
export async function setup(): Promise<Fixture> {
  const env = await createTestEnv();
  const server = await startTestServer(env);
  const t = await seedTenants(env);
  return {
    env,
    server,
    t,
    admin: clientFor(server, await t.token('general', 'admin')),
    nurse: clientFor(server, await t.token('general', 'nurse.icu')),
    riversideAdmin: clientFor(server, await t.token('riverside', 'admin')),
    anonymous: clientFor(server),
  };
}

export { type TrpcErrorInfo, trpcError } from '../support/errors.js';

let n = 0;

/** A fresh user inserted directly (no password: these tests never sign in with one). */
export async function freshUser(f: Fixture, opts: { role?: Role; slug?: 'general' | 'riverside'; name?: string; email?: string } = {}) {
  const role = opts.role ?? 'operator';
  const hospital = f.t.hospital[opts.slug ?? 'general'];
  const tag = `${++n}.${Date.now().toString(36)}`;
  const [row] = await f.env.deps.db
    .insert(users)
    .values({
      hospitalId: hospital.id,
      departmentId: role === 'nurse' || role === 'doctor' ? hospital.departments.ICU : null,
      email: opts.email ?? `fresh${tag}@${opts.slug ?? 'general'}.test`,
      name: opts.name ?? `Fresh ${role} ${tag}`,
      role,
    })
    .returning({ id: users.id, email: users.email, hospitalId: users.hospitalId });
  return row as { id: string; email: string; hospitalId: string };
}

/** A live session token for any user, opened directly. */
export async function tokenFor(f: Fixture, user: { id: string; hospitalId: string }) {
  const { token } = await createSession(f.env.deps.db, { userId: user.id, hospitalId: user.hospitalId, hours: 1, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
  return token;
}

/** Row counts that a refused or malformed call must leave unchanged. */
export async function counts(f: Fixture): Promise<{ users: number; audit: number; departments: number; sessions: number; settings: string }> {
  const { rows } = await f.env.deps.db.execute<{ users: number; audit: number; departments: number; sessions: number; settings: string }>(sql`SELECT
    (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM audit_logs WHERE action <> 'access.denied') AS audit,
    (SELECT count(*)::int FROM departments) AS departments,
    (SELECT count(*)::int FROM sessions WHERE revoked_at IS NULL) AS sessions,
    (SELECT string_agg(settings::text, '|' ORDER BY id) FROM hospitals) AS settings`);
  return rows[0] as { users: number; audit: number; departments: number; sessions: number; settings: string };
}

export interface AuditRow {
  action: string;
  outcome: string;
  user_id: string | null;
  hospital_id: string | null;
  resource: string | null;
  resource_id: string | null;
  metadata: Record<string, unknown> | null;
}

/** Audit rows of one action (and resource id), oldest first. */
export async function auditOf(f: Fixture, action: string, resourceId?: string): Promise<AuditRow[]> {
  const { rows } = await f.env.deps.db.execute<AuditRow & Record<string, unknown>>(
    sql`SELECT action, outcome::text AS outcome, user_id, hospital_id, resource, resource_id, metadata FROM audit_logs
        WHERE action = ${action} AND (${resourceId ?? null}::text IS NULL OR resource_id = ${resourceId ?? null}) ORDER BY seq`,
  );
  return rows;
}

/** The keys every user output has, and nothing else (no hash, no TOTP secret, no backup codes). */
export const USER_KEYS = [
  'createdAt',
  'departmentId',
  'departmentName',
  'email',
  'emailVerified',
  'hospitalId',
  'id',
  'isActive',
  'isLocked',
  'licenseNumber',
  'lastLoginAt',
  'lockoutUntil',
  'mustChangePassword',
  'name',
  'role',
  'shiftSchedule',
  'specialization',
  'twoFactorEnabled',
  'updatedAt',
].sort();
