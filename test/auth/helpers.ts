import { existsSync, readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { expect } from 'vitest';
import { hashPassword } from '../../server/auth/passwords.js';
import { DEV_PASSWORD } from '../../server/seed/dev.js';
import { hospitals, users } from '../../server/db/schema.js';
import type { Role } from '../../server/permissions.js';
import { LOG_DIR, type TestEnv } from '../support/env.js';
import type { TestServer } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';

export { DEV_PASSWORD };

export { type TrpcErrorInfo, trpcError } from '../support/errors.js';

let hashed: Promise<string> | undefined;
let n = 0;

/** A fresh user in the general hospital with the development password, so tests never share state. */
export async function makeUser(env: TestEnv, t: Tenants, opts: { role?: Role; email?: string; department?: 'ER' | 'ICU' | 'CARD' } = {}) {
  hashed ??= hashPassword(DEV_PASSWORD);
  const role = opts.role ?? 'operator';
  const hospital = t.hospital.general;
  const email = opts.email ?? `user${++n}.${Date.now().toString(36)}@general.test`;
  const [row] = await env.deps.db
    .insert(users)
    .values({
      hospitalId: hospital.id,
      departmentId: role === 'nurse' || role === 'doctor' ? hospital.departments[opts.department ?? 'ICU'] : null,
      email,
      name: `Test ${role} ${n}`,
      role,
      passwordHash: await hashed,
    })
    .returning({ id: users.id });
  return { id: (row as { id: string }).id, email, hospitalId: hospital.id };
}

/** Sets a hospital's settings field directly (the hospitals router belongs to another issue). */
export async function setHospitalSetting(env: TestEnv, hospitalId: string, patch: Record<string, unknown>) {
  await env.deps.db
    .update(hospitals)
    .set({ settings: sql`${hospitals.settings} || ${JSON.stringify(patch)}::jsonb` })
    .where(eq(hospitals.id, hospitalId));
}

export type AuditRow = {
  action: string;
  outcome: string;
  user_id: string | null;
  hospital_id: string | null;
  session_id: string | null;
  chain_id: string;
  metadata: Record<string, unknown> | null;
};

export async function auditRows(env: TestEnv, where = sql`true`): Promise<AuditRow[]> {
  const { rows } = await env.deps.db.execute<AuditRow>(
    sql`SELECT action, outcome::text, user_id, hospital_id, session_id, chain_id, metadata FROM audit_logs WHERE ${where} ORDER BY timestamp, seq`,
  );
  return rows;
}

export async function countRows(env: TestEnv): Promise<Record<string, number>> {
  const { rows } = await env.deps.db.execute<Record<string, number>>(sql`SELECT
    (SELECT count(*)::int FROM audit_logs) AS audit, (SELECT count(*)::int FROM sessions) AS sessions,
    (SELECT count(*)::int FROM user_backup_codes) AS codes,
    (SELECT coalesce(sum(failed_login_attempts), 0)::int FROM users) AS failures,
    (SELECT count(*)::int FROM users WHERE two_factor_secret IS NOT NULL) AS secrets`);
  return rows[0] as Record<string, number>;
}

/** The plain-JSON answer of a non-batched tRPC call. */
export interface RawBody {
  result: { data: { status: string; token: string; expiresAt: string } };
  error: { message: string; data: { code: string; fieldErrors: Record<string, string[]> | null } };
}

/** A login over plain JSON HTTP, as an outside client (k6, curl) sends it, with headers of our choice. */
export async function rawLogin(server: Pick<TestServer, 'url'>, input: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: (await res.json()) as RawBody, setCookie: res.headers.getSetCookie() };
}

/**
 * Every log line this test file wrote (createTestEnv writes them to test-artifacts/logs). Read through the
 * logger's own file descriptor where /proc allows, so a concurrent run that clears the directory cannot
 * hide them.
 */
export function logsOf(env: TestEnv): string {
  const stream = (env.deps.log as unknown as Record<symbol, { fd?: number; file?: string }>)[pino.symbols.streamSym];
  const viaFd = stream?.fd !== undefined ? `/proc/self/fd/${stream.fd}` : undefined;
  if (viaFd && existsSync(viaFd)) return readFileSync(viaFd, 'utf8');
  if (stream?.file) return readFileSync(stream.file, 'utf8');
  throw new Error(`no log file for this test in ${LOG_DIR}`);
}

export function expectNoSecretsIn(text: string, secrets: string[]) {
  expect(text).toContain('"procedure":"auth.login"');
  for (const s of secrets) expect(text.includes(s), `log contains a secret (${s.slice(0, 4)}…)`).toBe(false);
}
