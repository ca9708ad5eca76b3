import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { logAuditEvent } from '../../server/audit/log.js';
import { auditRetentionProcessor, loginFailureCleanupProcessor } from '../../worker/processors/maintenance.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

let env: TestEnv;
let t: Tenants;

beforeAll(async () => {
  env = await createTestEnv({ AUDIT_PURGE_BATCH: '100' });
  t = await seedTenants(env);
});

async function verify(chain: string) {
  const { rows } = await env.deps.db.execute<{ rows_checked: number; first_bad_seq: number | null }>(sql`SELECT * FROM audit_verify(${chain})`);
  return rows[0]!;
}

describe('audit retention purge', () => {
  it('deletes rows past retention in batches through audit_purge, and the chain still verifies', async () => {
    const h = t.hospital.general.id;
    const ctx = { userId: null, hospitalId: h, ip: null, userAgent: 'test', sessionId: null };
    for (let i = 0; i < 350; i++) await logAuditEvent(env.deps.db, ctx, { action: 'test.old', metadata: { i } });
    const before = await verify(h);
    expect(before.first_bad_seq).toBeNull();
    // Age the oldest 300 rows past retention (test set-up as superuser; application code cannot do this).
    await env.deps.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL session_replication_role = replica`);
      await tx.execute(sql`UPDATE audit_logs SET retention_until = now() - interval '1 day' WHERE chain_id = ${h} AND seq <= 300`);
    });
    const result = await auditRetentionProcessor.run(env.deps, {}, env.deps.log);
    expect(result).toEqual({ purged: 300 });
    const { rows } = await env.deps.db.execute<{ min: number; n: number }>(sql`SELECT min(seq)::int AS min, count(*)::int AS n FROM audit_logs WHERE chain_id = ${h}`);
    expect(rows[0]).toEqual({ min: 301, n: before.rows_checked - 300 });
    expect((await verify(h)).first_bad_seq).toBeNull();
    const { rows: anchor } = await env.deps.db.execute<{ seq: number }>(sql`SELECT seq::int FROM audit_chain_anchors WHERE chain_id = ${h}`);
    expect(anchor[0]!.seq).toBe(300);
    // New rows chain on after the purge, and a second run has nothing to do.
    await logAuditEvent(env.deps.db, ctx, { action: 'test.new' });
    expect((await verify(h)).first_bad_seq).toBeNull();
    expect(await auditRetentionProcessor.run(env.deps, {}, env.deps.log)).toEqual({ purged: 0 });
  });

  it('a plain DELETE is still refused', async () => {
    const err = await env.deps.db.execute(sql`DELETE FROM audit_logs WHERE retention_until < now() + interval '10 years'`).catch((e) => e);
    expect(err.cause?.code ?? err.code).toBe('42501');
  });
});

describe('sign-in failure clean-up', () => {
  it('forgets counts with no failure for a day unless a lock is still running, and keeps the rest', async () => {
    await env.deps.db.execute(sql`
      INSERT INTO login_failures (subject, ip, failures, last_failed_at, locked_until) VALUES
        ('email:stale', '10.9.0.1', 3, now() - interval '25 hours', NULL),
        ('email:stale', '*', 3, now() - interval '25 hours', NULL),
        ('email:lapsed-lock', '10.9.0.2', 9, now() - interval '30 hours', now() - interval '1 hour'),
        ('email:still-locked', '10.9.0.3', 12, now() - interval '30 hours', now() + interval '2 hours'),
        ('email:recent', '10.9.0.4', 2, now() - interval '1 hour', NULL)`);
    expect(await loginFailureCleanupProcessor.run(env.deps, {}, env.deps.log)).toEqual({ removed: 3 });
    const { rows } = await env.deps.db.execute<{ subject: string }>(sql`SELECT subject FROM login_failures WHERE subject LIKE 'email:%' ORDER BY subject`);
    expect(rows.map((r) => r.subject)).toEqual(['email:recent', 'email:still-locked']);
    expect(await loginFailureCleanupProcessor.run(env.deps, {}, env.deps.log)).toEqual({ removed: 0 });
  });
});
