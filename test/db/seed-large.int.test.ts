import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { logAuditEvent } from '../../server/audit/log.js';
import { verifyChains } from '../../server/audit/verify.js';
import { seedLarge } from '../../scripts/seed-large.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

// The large seed's code path at a small scale: the same COPY, the same Node-computed hash chain.
let env: TestEnv;
let hospitalId: string;

beforeAll(async () => {
  env = await createTestEnv();
}, 120_000);

describe('large seed (small scale)', () => {
  it('loads users, alerts and a chained audit log into a separate bench hospital', async () => {
    const report = await seedLarge(env.deps.pool, { users: 2_000, auditRows: 20_000, alerts: 200, progress: false });
    expect(report).not.toBeNull();
    hospitalId = report!.hospitalId;
    const { rows } = await env.deps.db.execute<Record<string, number>>(sql`SELECT
      (SELECT count(*)::int FROM users WHERE hospital_id = ${hospitalId}) AS users,
      (SELECT count(*)::int FROM departments WHERE hospital_id = ${hospitalId}) AS departments,
      (SELECT count(*)::int FROM audit_logs WHERE hospital_id = ${hospitalId}) AS audit,
      (SELECT count(*)::int FROM alerts WHERE hospital_id = ${hospitalId}) AS alerts,
      (SELECT count(*)::int FROM alert_events WHERE hospital_id = ${hospitalId}) AS events,
      (SELECT count(*)::int FROM hospitals WHERE slug IN ('general', 'riverside')) AS dev_hospitals`);
    expect(rows[0]).toMatchObject({ users: 2_000, departments: 20, audit: 20_000, alerts: 200, dev_hospitals: 0 });
    expect(rows[0]!.events).toBeGreaterThanOrEqual(400);
  });

  it('spreads audit rows over six years, in chain order, all within retention', async () => {
    const { rows } = await env.deps.db.execute<{ span_days: number; min_seq: string; max_seq: string; backwards: number; expired: number }>(sql`
      SELECT extract(epoch FROM max(timestamp) - min(timestamp)) / 86400 AS span_days, min(seq)::text AS min_seq, max(seq)::text AS max_seq,
        (SELECT count(*)::int FROM (SELECT timestamp < lag(timestamp) OVER (ORDER BY seq) AS b FROM audit_logs WHERE chain_id = ${hospitalId}) t WHERE b) AS backwards,
        count(*) FILTER (WHERE retention_until < now())::int AS expired
      FROM audit_logs WHERE chain_id = ${hospitalId}`);
    expect(Number(rows[0]!.span_days)).toBeGreaterThan(365 * 5.9);
    expect(rows[0]).toMatchObject({ min_seq: '1', max_seq: '20000', backwards: 0, expired: 0 });
  });

  it('produces a chain that audit_verify accepts (Node hashing = SQL hashing)', async () => {
    const [result] = await verifyChains(env.deps.db, [hospitalId]);
    expect(result).toMatchObject({ verified: true, rowsChecked: 20_000, firstBadSeq: null, problem: null });
  });

  it('leaves the chain extendable by the normal trigger', async () => {
    await logAuditEvent(env.deps.db, { userId: null, hospitalId, ip: null, userAgent: 'test', sessionId: null }, { action: 'test.after_seed' });
    const [result] = await verifyChains(env.deps.db, [hospitalId]);
    expect(result).toMatchObject({ verified: true, rowsChecked: 20_001 });
  });

  it('gives the generated users one working password hash and valid roles', async () => {
    const { rows } = await env.deps.db.execute<{ hashes: number; admins: number; clinical_without_dept: number }>(sql`
      SELECT count(DISTINCT password_hash)::int AS hashes, count(*) FILTER (WHERE role = 'admin')::int AS admins,
        count(*) FILTER (WHERE role IN ('nurse', 'doctor') AND department_id IS NULL)::int AS clinical_without_dept
      FROM users WHERE hospital_id = ${hospitalId}`);
    expect(rows[0]).toMatchObject({ hashes: 1, clinical_without_dept: 0 });
    expect(rows[0]!.admins).toBeGreaterThan(0);
  });

  it('is idempotent: a second run skips', async () => {
    expect(await seedLarge(env.deps.pool, { users: 10, auditRows: 10, alerts: 1, progress: false })).toBeNull();
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM users WHERE hospital_id = ${hospitalId}`);
    expect(rows[0]!.n).toBe(2_000);
  });
});
