import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { escalateAlert } from '../../server/alerts/service.js';
import { systemAudit } from '../../worker/processors/timers.js';
import { makeUser, rawLogin } from '../auth/helpers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

/**
 * Issue 13 item 5: a settings save locked the hospital row FOR UPDATE and then waited for the hospital
 * lock (its audit row); an acknowledge, an escalation or a failed login held the hospital lock and then
 * needed FOR KEY SHARE on the same row for its foreign-key check: "deadlock detected", answered 500.
 */
let env: TestEnv;
let server: TestServer;
let t: Tenants;

beforeAll(async () => {
  // The per-minute sign-in throttle would stop the failed logins long before round 200.
  env = await createTestEnv({ LOGIN_RATE_LIMIT_PER_MINUTE: '10000' });
  server = await startTestServer(env);
  t = await seedTenants(env);
});

const deadlocks = async () => {
  // Statistics reach pg_stat_database about once a second after a transaction ends.
  await new Promise((r) => setTimeout(r, 1_500));
  const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()`);
  return rows[0]?.n ?? 0;
};

describe('lock order: settings saves and user edits against audited actions', () => {
  it('200 rounds of settings saves racing acknowledges, escalations, failed logins and user edits: zero errors, zero deadlocks', async () => {
    const hospitalId = t.hospital.general.id;
    const admin = clientFor(server, await t.token('general', 'admin'));
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    const operator = clientFor(server, await t.token('general', 'operator'));
    const nurseId = t.user('general', 'nurse.icu').id;
    const icu = t.hospital.general.departments.ICU;
    const before = await deadlocks();
    const errors: string[] = [];
    const record = (what: string) => (err: unknown) => {
      const e = err as { data?: { code?: string }; message?: string };
      errors.push(`${what}: ${e.data?.code ?? ''} ${e.message ?? String(err)}`);
    };
    const rounds = 200;
    for (let i = 0; i < rounds; i++) {
      const toAck = await operator.alerts.create.mutate({ title: `Ack ${i}`, priority: 'high', alertType: 'medical', departmentId: icu, roomNumber: `A${i}` });
      const toEscalate = await operator.alerts.create.mutate({ title: `Esc ${i}`, priority: 'critical', alertType: 'medical', departmentId: icu, roomNumber: `E${i}` });
      const victim = await makeUser(env, t);
      await Promise.all([
        admin.hospitals.updateSettings.mutate({ sessionHours: 8 + (i % 4) }).catch(record('updateSettings')),
        admin.users.update.mutate({ id: nurseId, specialization: `Round ${i}` }).catch(record('users.update')),
        nurse.alerts.acknowledge.mutate({ alertId: toAck.id }).catch(record('acknowledge')),
        escalateAlert(env.deps, { hospitalId, departmentId: null }, systemAudit(hospitalId), toEscalate.id, 'timeout', {
          escalationLevel: toEscalate.escalationLevel,
          version: toEscalate.version,
        })
          .then((r) => (r ? undefined : errors.push('escalate: timer found the alert stale')))
          .catch(record('escalate')),
        rawLogin(server, { email: victim.email, password: 'wrong-password!' }).then((r) => {
          if (r.status !== 401) errors.push(`failed login: HTTP ${r.status} ${r.body.error?.data.code}`);
        }),
      ]);
    }
    expect(errors).toEqual([]);
    // Deadlocks are bugs, not retries: the lock order avoids them, the retry is only the last resort.
    expect((await deadlocks()) - before).toBe(0);
    const { rows } = await env.deps.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'hospital.settings_updated' AND hospital_id = ${hospitalId}`,
    );
    expect(rows[0]?.n).toBe(rounds);
  }, 600_000);
});
