import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../server/auth/passwords.js';
import { createSession } from '../../server/auth/sessions.js';
import { DEV_PASSWORD, devEmail, devHospitals, seedDevelopment } from '../../server/seed/dev.js';
import { defaultHospitalSettings } from '../../server/hospitals/settings.js';
import { runScript } from '../support/cli.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer } from '../support/server.js';
import { startTestWorker, waitUntil } from '../support/worker.js';

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
    await seedDevelopment(env.deps);
    const c = await counts();
    expect(c).toMatchObject({ hospitals: 2, departments: 6, users: 14, alerts: 10 });
    const { rows: states } = await env.deps.db.execute<{ status: string }>(sql`SELECT DISTINCT status::text FROM alerts ORDER BY 1`);
    expect(states.map((s) => s.status)).toEqual(['acknowledged', 'active', 'cancelled', 'resolved']);
    const { rows } = await env.deps.db.execute<{ password_hash: string }>(sql`SELECT password_hash FROM users WHERE email = 'nurse.icu@general.test'`);
    expect(await verifyPassword(DEV_PASSWORD, rows[0]!.password_hash)).toBe(true);
  });

  it('is idempotent', async () => {
    const before = await counts();
    const report = await seedDevelopment(env.deps);
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
    await expect(seedDevelopment({ ...env.deps, config: { ...env.deps.config, isProduction: true } })).rejects.toThrow('refusing to seed a production database');
    const result = await runScript('scripts/seed.ts', [], {
        CLARION_ENV: 'production',
        DATABASE_URL: env.databaseUrl,
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        TOKEN_SIGNING_SECRET: 'p'.repeat(40),
        AUDIT_ANCHOR_KEY: Buffer.alloc(32, 2).toString('base64'),
        DB_SSL: 'disable',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refusing to seed a production database');
  });
});

/** A signed-in client for a seeded account, over the real HTTP API. */
async function signedIn(e: TestEnv, server: { url: string; wsUrl: string }, local: string, slug: string) {
  const { rows } = await e.deps.db.execute<{ id: string; hospital_id: string }>(sql`SELECT id, hospital_id FROM users WHERE email = ${devEmail(local, slug)}`);
  const u = rows[0]!;
  const { token } = await createSession(e.deps.db, { userId: u.id, hospitalId: u.hospital_id, hours: 1, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
  return clientFor(server, token);
}

describe('development seed: rows identical to real ones', () => {
  it('every seeded alert opens in the Details dialog (alerts.getById over HTTP) for the admin of each hospital', async () => {
    const server = await startTestServer(env);
    for (const h of devHospitals) {
      const admin = await signedIn(env, server, 'admin', h.slug);
      const { rows } = await env.deps.db.execute<{ id: string }>(sql`SELECT a.id FROM alerts a JOIN hospitals h ON h.id = a.hospital_id WHERE h.slug = ${h.slug}`);
      expect(rows.length).toBe(5);
      for (const { id } of rows) {
        const detail = await admin.alerts.getById.query({ alertId: id });
        expect(detail.events.length).toBeGreaterThan(0);
        for (const e of detail.events) expect(e.alert).toMatchObject({ id, createdByName: 'Olive Operator', departmentName: detail.alert.departmentName });
        expect(detail.events.at(-1)?.alert).toEqual(detail.alert);
      }
    }
  });

  it('a decline reason survives a reload, and the seeded waiting alerts have escalation deadlines', async () => {
    const server = await startTestServer(env);
    const doctor = await signedIn(env, server, 'doctor.er', 'general');
    const nurse = await signedIn(env, server, 'nurse.er', 'general');
    const { alerts } = await nurse.alerts.getActive.query();
    const fall = alerts.find((a) => a.title === 'Patient fall')!;
    await doctor.alerts.decline.mutate({ alertId: fall.id, reason: 'Both ER doctors in resus' });
    // What a reloaded board does to learn the decline reasons: the alert's history.
    const reloaded = await nurse.alerts.getById.query({ alertId: fall.id });
    expect(reloaded.events.filter((e) => e.type === 'declined').map((e) => e.detail?.reason)).toContain('Both ER doctors in resus');
    const { rows } = await env.deps.db.execute<{ title: string; next_escalation_at: Date | null }>(sql`SELECT title, next_escalation_at FROM alerts WHERE status = 'active'`);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) expect(r.next_escalation_at, r.title).not.toBeNull();
  });
});

describe('development seed: waiting alerts escalate', () => {
  it("a seeded critical escalates under a short policy with the worker running", async () => {
    const e = await createTestEnv({ SWEEP_INTERVAL_MS: '500' });
    // Riverside exists already with a 2 s critical policy; the seed fills it in.
    const settings = { ...defaultHospitalSettings, requireTwoFactorFor: [], escalation: { ...defaultHospitalSettings.escalation, critical: { levelTimeoutsSeconds: [2, 600] } } };
    await e.deps.db.execute(sql`INSERT INTO hospitals (slug, name, settings) VALUES ('riverside', 'Riverside Hospital', ${JSON.stringify(settings)}::jsonb)`);
    await seedDevelopment(e.deps);
    await startTestWorker(e);
    const level = async () => {
      const { rows } = await e.deps.db.execute<{ level: number }>(
        sql`SELECT a.escalation_level AS level FROM alerts a JOIN hospitals h ON h.id = a.hospital_id WHERE h.slug = 'riverside' AND a.title = 'Cardiac arrest'`,
      );
      return rows[0]?.level ?? -1;
    };
    await waitUntil(async () => (await level()) >= 1, 15_000, "Riverside's seeded cardiac arrest to escalate");
  }, 30_000);
});
