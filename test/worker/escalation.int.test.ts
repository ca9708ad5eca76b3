import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Collector, clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, startTestWorker, waitUntil } from '../support/worker.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
let operator: Client;
let nurse: Client;
let head: Collector;

beforeAll(async () => {
  env = await createTestEnv({ SWEEP_INTERVAL_MS: '500' });
  server = await startTestServer(env, { fanoutTickMs: 500 });
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'critical', [1, 1]);
  await setPolicy(env, t.hospital.general.id, 'high', [2]);
  await startTestWorker(env);
  operator = clientFor(server, await t.token('general', 'operator'));
  nurse = clientFor(server, await t.token('general', 'nurse.icu'));
  head = collectEvents(clientFor(server, await t.token('general', 'head')));
  await head.started;
});
afterAll(() => head.stop());

const raise = (priority: 'critical' | 'high' = 'critical', over: Record<string, unknown> = {}) =>
  operator.alerts.create.mutate({ title: 'Escalate me', priority, alertType: 'medical', departmentId: t.hospital.general.departments.ICU, ...over } as never);

async function eventTypes(alertId: string): Promise<string[]> {
  const { rows } = await env.deps.db.execute<{ type: string }>(sql`SELECT type::text FROM alert_events WHERE alert_id = ${alertId} ORDER BY id`);
  return rows.map((r) => r.type);
}

describe('escalation timers', () => {
  it('fire within a second of each deadline, reach the head doctor live, and stop at the top level', async () => {
    const alert = await raise();
    await head.until((e) => e.filter((x) => x.alert.id === alert.id && x.type === 'escalated').length === 2, 6_000);
    const escalations = head.events.filter((x) => x.alert.id === alert.id && x.type === 'escalated');
    expect(escalations.map((e) => e.alert.escalationLevel)).toEqual([1, 2]);
    const { rows } = await env.deps.db.execute<{ from_level: number; to_level: number; reason: string; late_ms: number }>(sql`
      SELECT e.from_level, e.to_level, e.reason::text,
             extract(epoch FROM e.escalated_at - (a.created_at + make_interval(secs => e.to_level)))::float * 1000 AS late_ms
      FROM alert_escalations e JOIN alerts a ON a.id = e.alert_id WHERE e.alert_id = ${alert.id} ORDER BY e.to_level`);
    expect(rows.map((r) => [r.from_level, r.to_level, r.reason])).toEqual([[0, 1, 'timeout'], [1, 2, 'timeout']]);
    for (const r of rows) expect(r.late_ms).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await eventTypes(alert.id)).filter((x) => x === 'escalated')).toHaveLength(2);
    const audit = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE resource_id = ${alert.id} AND action = 'alert.escalated' AND user_id IS NULL`);
    expect(audit.rows[0]!.n).toBe(2);
  });

  it('acknowledged, resolved and cancelled alerts never escalate: 100 randomised races around the deadline', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    const alerts = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const a = await raise('high', { title: `Race ${i}` });
        // Respond within ±300 ms of this alert's own deadline: both sides of the race.
        await sleep(Date.parse(a.nextEscalationAt!) + Math.floor(Math.random() * 600) - 300 - Date.now());
        const act =
          i % 3 === 0
            ? nurse.alerts.acknowledge.mutate({ alertId: a.id })
            : i % 3 === 1
              ? nurse.alerts.resolve.mutate({ alertId: a.id })
              : operator.alerts.cancel.mutate({ alertId: a.id });
        await act.catch(() => undefined);
        return a;
      }),
    );
    await sleep(1_500);
    let escalatedFirst = 0;
    for (const a of alerts) {
      const types = await eventTypes(a.id);
      const closedAt = types.findIndex((x) => x === 'acknowledged' || x === 'resolved' || x === 'cancelled');
      expect(closedAt, `alert ${a.id}: ${types.join(',')}`).toBeGreaterThan(0);
      expect(types.slice(closedAt + 1), `alert ${a.id}: ${types.join(',')}`).not.toContain('escalated');
      expect(types.filter((x) => x === 'escalated').length).toBeLessThanOrEqual(1); // the high policy has one level
      if (types[1] === 'escalated') escalatedFirst++;
    }
    console.log(`races: ${escalatedFirst} of 100 escalated before the response, ${100 - escalatedFirst} responded first`);
  });

  it('expires an alert at its expiry time with an expired event', async () => {
    const alert = await raise('high', { expiresAt: new Date(Date.now() + 1_200).toISOString() });
    await head.until((e) => e.some((x) => x.alert.id === alert.id && x.type === 'expired'), 4_000);
    const [row] = (await env.deps.db.execute<{ status: string }>(sql`SELECT status::text FROM alerts WHERE id = ${alert.id}`)).rows;
    expect(row!.status).toBe('resolved');
  });

  it('the sweeper escalates an alert whose timer never existed', async () => {
    const alert = await raise('high');
    await env.deps.queues.timers.remove(`esc-${alert.id}-0-1`);
    await env.deps.db.execute(sql`UPDATE alerts SET next_escalation_at = now() - interval '5 seconds' WHERE id = ${alert.id}`);
    await waitUntil(async () => (await eventTypes(alert.id)).includes('escalated'), 4_000, 'the sweeper to escalate');
    expect((await eventTypes(alert.id)).filter((x) => x === 'escalated')).toHaveLength(1);
  });

  it('a job with an invalid payload fails without retries', async () => {
    const job = await env.deps.queues.timers.add('escalate', { alertId: 42 }, { jobId: 'bad-payload-test', attempts: 5 });
    await waitUntil(async () => (await job.getState()) === 'failed', 4_000, 'the job to fail');
    const failed = await env.deps.queues.timers.getJob('bad-payload-test');
    expect(failed?.failedReason).toBe('invalid job payload');
    expect(failed?.attemptsMade).toBe(1);
  });
});
