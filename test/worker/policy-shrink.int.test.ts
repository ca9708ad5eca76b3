import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAlert, createAlert, declineAlert, reopenAfterAckTimeout, updateAlert } from '../../server/alerts/service.js';
import type { Actor } from '../../server/permissions.js';
import { escalateProcessor } from '../../worker/processors/timers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, startTestWorker, waitUntil } from '../support/worker.js';

// Issue 13 item 6: shortening an escalation policy under open alerts must not wedge the sweeper
// (CONFLICT and a failure audit row every sweep, the batch filled with alerts it cannot act on), and
// a level never goes down.
let env: TestEnv;
let t: Tenants;
const HOUR = 3_600;

beforeAll(async () => {
  env = await createTestEnv({ SWEEP_INTERVAL_MS: '500' });
  t = await seedTenants(env);
  for (const slug of ['general', 'riverside'] as const) {
    for (const p of ['critical', 'high', 'medium']) await setPolicy(env, t.hospital[slug].id, p, [HOUR, HOUR, HOUR]);
  }
  await startTestWorker(env);
});

const actor = (slug: 'general' | 'riverside', account: 'operator' | 'nurse.icu'): Actor => t.user(slug, account) as Actor;
const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: null, userAgent: 'test', sessionId: null });

async function raise(slug: 'general' | 'riverside', title: string, priority: 'critical' | 'high' | 'medium' = 'critical') {
  const op = actor(slug, 'operator');
  return createAlert(env.deps, op, auditOf(op), { title, priority, alertType: 'medical', departmentId: t.hospital[slug].departments.ICU, roomNumber: title.slice(-12) });
}

/** Puts alerts at `level` with a deadline `secondsAgo` in the past, as if their timers were lost. */
async function placeAt(ids: string[], level: number, secondsAgo: number | null): Promise<void> {
  const deadline = secondsAgo === null ? sql`now() + interval '1 hour'` : sql`now() - make_interval(secs => ${secondsAgo})`;
  await env.deps.db.execute(sql`UPDATE alerts SET escalation_level = ${level}, version = version + 1, next_escalation_at = ${deadline} WHERE id IN ${ids}`);
}

async function rowOf(id: string) {
  const { rows } = await env.deps.db.execute<{ level: number; next: Date | null; version: number; status: string }>(
    sql`SELECT escalation_level AS level, next_escalation_at AS next, version, status::text FROM alerts WHERE id = ${id}`,
  );
  return rows[0]!;
}

async function auditCount(ids: string[], action: string, outcome: 'success' | 'failure') {
  const { rows } = await env.deps.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM audit_logs WHERE resource_id IN ${ids} AND action = ${action} AND outcome = ${outcome}`,
  );
  return rows[0]!.n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a shortened escalation policy (issue 13 item 6)', () => {
  it('an alert above the new top level stops escalating: deadline cleared once, one audit row, no failures on later sweeps', async () => {
    const alerts = await Promise.all([0, 1, 2].map((i) => raise('general', `Shrink stop ${i}`)));
    const ids = alerts.map((a) => a.id);
    await placeAt(ids, 2, 60);
    await setPolicy(env, t.hospital.general.id, 'critical', [HOUR]); // the top level is now 1
    await waitUntil(async () => (await auditCount(ids, 'alert.escalation_stopped', 'success')) === 3, 10_000, 'the sweeper to stop the three alerts');
    await sleep(2_500); // about five more sweeps
    for (const id of ids) {
      const row = await rowOf(id);
      expect(row, id).toMatchObject({ level: 2, next: null, status: 'active' });
    }
    expect(await auditCount(ids, 'alert.escalation_stopped', 'success')).toBe(3);
    expect(await auditCount(ids, 'alert.escalated', 'failure')).toBe(0);
    expect(await auditCount(ids, 'alert.escalated', 'success')).toBe(0);
    await setPolicy(env, t.hospital.general.id, 'critical', [HOUR, HOUR, HOUR]);
  });

  it('201 alerts it cannot act on do not starve an alert whose timer was really lost', async () => {
    const h = t.hospital.riverside.id;
    const wedged: string[] = [];
    for (let i = 0; i < 201; i += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, 201 - i) }, (_, j) => raise('riverside', `Wedged ${i + j}`, 'high')));
      wedged.push(...batch.map((a) => a.id));
    }
    await placeAt(wedged, 2, HOUR); // due long before the lost one, so first in the sweeper's order
    await setPolicy(env, h, 'high', [HOUR]);
    const lost = await raise('riverside', 'Really lost timer', 'critical');
    await placeAt([lost.id], 0, 5);
    await waitUntil(async () => (await rowOf(lost.id)).level === 1, 20_000, 'the lost alert to escalate');
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alerts WHERE id IN ${wedged} AND next_escalation_at IS NOT NULL`);
    expect(rows[0]!.n).toBe(0);
    expect(await auditCount(wedged, 'alert.escalated', 'failure')).toBe(0);
    expect(await auditCount(wedged, 'alert.escalation_stopped', 'success')).toBe(201);
  }, 90_000);

  it('the BullMQ timer processor behaves the same: stops once, no failure row', async () => {
    const a = await raise('general', 'Timer after shrink', 'medium');
    await placeAt([a.id], 2, null); // deadline in the future: only the timer below acts on it
    await setPolicy(env, t.hospital.general.id, 'medium', [HOUR]);
    const before = await rowOf(a.id);
    const log = env.deps.log.child({ test: 'timer' });
    const first = await escalateProcessor.run(env.deps, { alertId: a.id, hospitalId: a.hospitalId, level: 2, version: before.version }, log);
    expect(first).toEqual({ escalated: false });
    const after = await rowOf(a.id);
    expect(after).toMatchObject({ level: 2, next: null });
    // The same timer delivered twice (BullMQ retries) is a stale no-op.
    await escalateProcessor.run(env.deps, { alertId: a.id, hospitalId: a.hospitalId, level: 2, version: before.version }, log);
    expect(await auditCount([a.id], 'alert.escalation_stopped', 'success')).toBe(1);
    expect(await auditCount([a.id], 'alert.escalated', 'failure')).toBe(0);
    await setPolicy(env, t.hospital.general.id, 'medium', [HOUR, HOUR, HOUR]);
  });

  it('a decline, an acknowledgement timeout or an update after the shrink never lowers the level', async () => {
    const nurse = actor('general', 'nurse.icu');
    const op = actor('general', 'operator');
    const declined = await raise('general', 'Decline after shrink', 'high');
    const reopened = await raise('general', 'Ack timeout after shrink', 'high');
    const updated = await raise('general', 'Update after shrink', 'high');
    await placeAt([declined.id, reopened.id, updated.id], 3, null);
    await setPolicy(env, t.hospital.general.id, 'high', [HOUR]);

    const d = await declineAlert(env.deps, nurse, auditOf(nurse), declined.id, 'In theatre');
    expect(d.escalationLevel).toBe(3);
    expect(d.nextEscalationAt).toBeNull();

    await acknowledgeAlert(env.deps, nurse, auditOf(nurse), reopened.id);
    await env.deps.db.execute(sql`UPDATE alerts SET ack_deadline_at = now() - interval '1 second' WHERE id = ${reopened.id}`);
    const r = await reopenAfterAckTimeout(env.deps, reopened.hospitalId, reopened.id, (await rowOf(reopened.id)).version);
    expect(r?.alert.escalationLevel).toBe(3);
    expect(r?.alert.status).toBe('active');

    const u = await updateAlert(env.deps, op, auditOf(op), { alertId: updated.id, priority: 'critical' });
    expect(u.escalationLevel).toBe(3);

    const { rows } = await env.deps.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM alert_escalations WHERE alert_id IN ${[declined.id, reopened.id, updated.id]} AND to_level <= from_level`,
    );
    expect(rows[0]!.n).toBe(0);
    await setPolicy(env, t.hospital.general.id, 'high', [HOUR, HOUR, HOUR]);
  });
});
