import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../server/auth/passwords.js';
import { DEV_PASSWORD, seedDevelopment } from '../../server/db/seed-dev.js';
import { runScript } from '../support/cli.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv;

async function counts() {
  const { rows } = await env.deps.db.execute<Record<string, number>>(sql`SELECT
    (SELECT count(*)::int FROM hospitals) AS hospitals, (SELECT count(*)::int FROM departments) AS departments,
    (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM alerts) AS alerts,
    (SELECT count(*)::int FROM alert_events) AS events, (SELECT count(*)::int FROM audit_logs) AS audit`);
  return rows[0];
}

beforeAll(async () => {
  env = await createTestEnv();
});

describe('development seed', () => {
  it('creates the documented data set', async () => {
    await seedDevelopment(env.deps.db);
    const c = await counts();
    expect(c).toMatchObject({ hospitals: 2, departments: 6, users: 14, alerts: 10 });
    const { rows: states } = await env.deps.db.execute<{ status: string }>(sql`SELECT DISTINCT status::text FROM alerts ORDER BY 1`);
    expect(states.map((s) => s.status)).toEqual(['acknowledged', 'active', 'cancelled', 'resolved']);
    const { rows } = await env.deps.db.execute<{ password_hash: string }>(sql`SELECT password_hash FROM users WHERE email = 'nurse.icu@general.test'`);
    expect(await verifyPassword(DEV_PASSWORD, rows[0]!.password_hash)).toBe(true);
  });

  it('is idempotent', async () => {
    const before = await counts();
    const report = await seedDevelopment(env.deps.db);
    expect(report).toEqual({ hospitals: 0, users: 0, alerts: 0 });
    expect(await counts()).toEqual(before);
  });

  it('writes audit rows whose chains verify', async () => {
    const { rows } = await env.deps.db.execute<{ rows_checked: number; first_bad_seq: number | null }>(
      sql`SELECT v.* FROM (SELECT DISTINCT chain_id FROM audit_logs) c, audit_verify(c.chain_id) v`,
    );
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r.first_bad_seq).toBeNull();
  });

  it('refuses to run in production', async () => {
    const result = await runScript('scripts/seed.ts', [], {
        CLARION_ENV: 'production',
        DATABASE_URL: env.databaseUrl,
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        TOKEN_SIGNING_SECRET: 'p'.repeat(40),
        DB_SSL: 'disable',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refusing to seed a production database');
  });
});
