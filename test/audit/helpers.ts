import { TRPCClientError } from '@trpc/client';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { type AuditContext, logAuditEvent } from '../../server/audit/log.js';
import type { TestEnv } from '../support/env.js';

/** Awaits a call that must fail and returns its tRPC error code and field errors. */
export async function trpcError(call: Promise<unknown>): Promise<{ code: string; fieldErrors: Record<string, string[]> | null }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err;
    const data = err.data as { code: string; fieldErrors?: Record<string, string[]> | null };
    return { code: data.code, fieldErrors: data.fieldErrors ?? null };
  }
  throw new Error('expected the call to fail');
}

/** Audit rows other than refused calls (which are audited as `access.denied` by design). */
export async function auditCount(env: TestEnv): Promise<number> {
  const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE action <> 'access.denied'`);
  return rows[0]!.n;
}

let n = 0;
/** A hospital of its own, so each tamper case has a chain nobody else writes to. */
export async function freshHospital(env: TestEnv): Promise<string> {
  n++;
  const { rows } = await env.deps.db.execute<{ id: string }>(
    sql`INSERT INTO hospitals (name, slug) VALUES (${`Chain test ${n}`}, ${`chain-${n}-${Date.now().toString(36)}`}) RETURNING id`,
  );
  return rows[0]!.id;
}

export const systemCtx = (hospitalId: string | null, userId: string | null = null): AuditContext => ({
  userId,
  hospitalId,
  ip: '127.0.0.1',
  userAgent: 'audit-test',
  sessionId: null,
});

/** n rows on a hospital's chain through the normal trigger path. */
export async function writeRows(env: TestEnv, hospitalId: string, count: number, action = 'test.event'): Promise<void> {
  for (let i = 0; i < count; i++) await logAuditEvent(env.deps.db, systemCtx(hospitalId), { action, resource: 'test', resourceId: String(i), metadata: { i } });
}

/**
 * Plays the attacker: a superuser session with triggers off (session_replication_role = replica),
 * which skips the append-only guard and the chain trigger for this session only.
 */
export async function asAttacker<T>(env: TestEnv, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    return await fn(client);
  } finally {
    await client.end();
  }
}
