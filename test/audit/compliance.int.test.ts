import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { logAuditEvent } from '../../server/audit/log.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { recordAnchors, verifyingKeys } from '../../server/audit/anchor.js';
import { getComplianceReport } from '../../server/audit/service.js';
import { asAttacker, auditCount, freshHospital, systemCtx, trpcError, writeRows } from './helpers.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;
const period = () => ({ from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() });

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
  const g = t.hospital.general.id;
  const r = t.hospital.riverside.id;
  const nurse = t.user('general', 'nurse.icu');
  const doctor = t.user('general', 'doctor.er');
  const failedLogin = (h: string, userId: string) => logAuditEvent(env.deps.db, systemCtx(h, userId), { action: 'auth.login', resource: 'session', outcome: 'failure' });
  for (let i = 0; i < 5; i++) await failedLogin(g, nurse.id);
  await failedLogin(g, doctor.id);
  await logAuditEvent(env.deps.db, systemCtx(g, nurse.id), { action: 'auth.lockout', resource: 'user', resourceId: nurse.id });
  await logAuditEvent(env.deps.db, systemCtx(g, doctor.id), { action: 'auth.login', resource: 'session' });
  // Riverside activity must not appear in general's report.
  for (let i = 0; i < 4; i++) await failedLogin(r, t.user('riverside', 'nurse.icu').id);
  await env.deps.db.execute(sql`UPDATE users SET two_factor_enabled = true WHERE id = ${t.user('general', 'admin').id}`);
  await env.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${t.user('general', 'nurse.er').id}`);
  await env.deps.db.execute(sql`UPDATE users SET last_login_at = now() - interval '120 days' WHERE id = ${t.user('general', 'operator').id}`);
  // The seed raises and acknowledges through the services, seconds apart; give its two acknowledged
  // alerts (CARD medium, ER high) a known response time of 30 s.
  await env.deps.db.execute(sql`UPDATE alerts SET acknowledged_at = created_at + interval '30 seconds' WHERE hospital_id = ${g} AND acknowledged_at IS NOT NULL`);
  await env.deps.db.execute(sql`UPDATE users SET last_login_at = now() - interval '1 day', created_at = now() - interval '1 year' WHERE hospital_id = ${g} AND id <> ${t.user('general', 'operator').id}`);
});

describe('audit.getComplianceReport', () => {
  it('summarises activity, authentication, 2FA, inactive accounts and the chain', async () => {
    const report = await admin.audit.getComplianceReport.query(period());
    const login = report.activity.byAction.find((a) => a.action === 'auth.login');
    expect(login).toEqual({ action: 'auth.login', success: 1, failure: 6 });
    expect(report.activity.byAction.find((a) => a.action === 'alert.created')?.success).toBe(5); // the dev seed's alerts
    expect(report.activity.total).toBe(report.activity.byOutcome.reduce((s, o) => s + o.count, 0));
    expect(report.activity.byOutcome.find((o) => o.key === 'failure')?.count).toBe(6);

    expect(report.authentication.failedLogins.count).toBe(6);
    expect(report.authentication.failedLogins.byUser).toEqual([
      { userId: t.user('general', 'nurse.icu').id, userName: 'Nia ICU Nurse', count: 5 },
      { userId: t.user('general', 'doctor.er').id, userName: 'Dr. Emma ER', count: 1 },
    ]);
    expect(report.authentication.lockouts).toEqual({ count: 1, byUser: [{ userId: t.user('general', 'nurse.icu').id, userName: 'Nia ICU Nurse', count: 1 }] });

    // 7 seeded accounts: admin has 2FA, nurse.er is deactivated.
    expect(report.twoFactor.activeUsers).toBe(6);
    const without = Object.fromEntries(report.twoFactor.withoutTwoFactorByRole.map((r) => [r.key, r.count]));
    expect(without).toEqual({ operator: 1, head_doctor: 1, nurse: 1, doctor: 2 });

    expect(report.inactiveAccounts.inactiveDays).toBe(90);
    expect(report.inactiveAccounts.noRecentLogin.count).toBe(1);
    expect(report.inactiveAccounts.noRecentLogin.users[0]).toMatchObject({ email: 'operator@general.test', role: 'operator', lastLoginAt: expect.stringMatching(/Z$/) });
    expect(report.inactiveAccounts.deactivated).toMatchObject({ count: 1, users: [{ email: 'nurse.er@general.test', role: 'nurse' }] });

    expect(report.chain).toMatchObject({ chainId: t.hospital.general.id, verified: true, firstBadSeq: null, problem: null });
    expect(report.chain.rowsChecked).toBeGreaterThan(10);
    // The dev seed's alerts: one of each status; the acknowledged ones took 30 s (set above).
    const r = report.alertResponse;
    expect(Object.fromEntries(r.byStatus.map((x) => [x.status, x.count]))).toEqual({ active: 2, acknowledged: 1, resolved: 1, cancelled: 1 });
    expect(r.timeToAcknowledge.map((x) => [x.departmentName, x.priority, x.acknowledged, x.medianSeconds])).toEqual([
      ['Cardiology', 'medium', 1, 30],
      ['Emergency', 'high', 1, 30],
    ]);
    expect(r.eventsPerDay.reduce((n, d) => n + d.count, 0)).toBeGreaterThanOrEqual(8);
  });

  it('counts only the period asked for', async () => {
    const report = await admin.audit.getComplianceReport.query({ from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' });
    expect(report.activity).toEqual({ total: 0, byAction: [], byOutcome: [{ key: 'success', count: 0 }, { key: 'failure', count: 0 }] });
    expect(report.authentication.failedLogins).toEqual({ count: 0, byUser: [] });
    expect(report.chain.verified).toBe(true);
  });

  it('is itself audited as audit.report_generated', async () => {
    const p = period();
    await admin.audit.getComplianceReport.query(p);
    const { rows } = await env.deps.db.execute<{ user_id: string; metadata: { from: string; chainVerified: boolean }; outcome: string }>(sql`
      SELECT user_id, metadata, outcome::text AS outcome FROM audit_logs WHERE action = 'audit.report_generated' ORDER BY seq DESC LIMIT 1`);
    expect(rows[0]).toMatchObject({ user_id: t.user('general', 'admin').id, outcome: 'success', metadata: { from: p.from, chainVerified: true } });
  });

  it('checks the chain against its anchors: rows deleted from the end are reported, not only broken links', async () => {
    const quiet = { info: () => undefined, error: () => undefined };
    await recordAnchors(env.deps.db, env.config.secrets.auditAnchorKey, quiet);
    // Wired through the router: general's anchored, intact chain verifies with its anchors checked.
    const intact = (await admin.audit.getComplianceReport.query(period())).chain;
    expect(intact).toMatchObject({ verified: true, problem: null });
    expect(intact.anchorsChecked).toBeGreaterThanOrEqual(1);
    // A hospital whose newest rows an attacker deleted: the links still verify, the anchor does not.
    const h = await freshHospital(env);
    await writeRows(env, h, 4);
    await recordAnchors(env.deps.db, env.config.secrets.auditAnchorKey, quiet);
    await asAttacker(env, (c) => c.query('DELETE FROM audit_logs WHERE chain_id = $1 AND seq >= 3', [h]));
    const report = await getComplianceReport(env.deps.db, { ...systemCtx(h), hospitalId: h }, period(), verifyingKeys(env.config.secrets));
    expect(report.chain).toMatchObject({ verified: false, firstBadSeq: null, problem: expect.stringContaining('rows deleted from the end'), anchorsChecked: 1 });
  });

  it('reports a broken chain with its first bad seq', async () => {
    const riverside = clientFor(server, await t.token('riverside', 'admin'));
    await asAttacker(env, (c) => c.query(`UPDATE audit_logs SET action = 'rewritten' WHERE chain_id = $1 AND seq = 2`, [t.hospital.riverside.id]));
    const report = await riverside.audit.getComplianceReport.query(period());
    expect(report.chain).toMatchObject({ chainId: t.hospital.riverside.id, verified: false, firstBadSeq: '2', problem: expect.stringContaining('modified') });
    expect(report.authentication.failedLogins.count).toBe(4);
    // general's chain is untouched
    expect((await admin.audit.getComplianceReport.query(period())).chain.verified).toBe(true);
  });

  it('refuses callers without audit.view, and malformed periods, writing nothing', async () => {
    const before = await auditCount(env);
    expect((await trpcError(clientFor(server).audit.getComplianceReport.query(period()))).code).toBe('UNAUTHORIZED');
    for (const account of ['nurse.icu', 'operator', 'head'] as const) {
      const c = clientFor(server, await t.token('general', account));
      expect((await trpcError(c.audit.getComplianceReport.query(period()))).code).toBe('FORBIDDEN');
    }
    for (const input of [{}, { from: '2025-01-01T00:00:00Z' }, { from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, { from: 'x', to: 'y' }]) {
      expect((await trpcError(admin.audit.getComplianceReport.query(input as never))).code).toBe('BAD_REQUEST');
    }
    expect(await auditCount(env)).toBe(before);
  });
});
