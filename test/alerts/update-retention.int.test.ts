import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventRetentionProcessor } from '../../worker/processors/maintenance.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, startTestWorker, waitUntil } from '../support/worker.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
let operator: Client;
let head: Client;
let nurse: Client;

beforeAll(async () => {
  env = await createTestEnv({ SWEEP_INTERVAL_MS: '500', EVENT_RETENTION_DAYS: '30' });
  server = await startTestServer(env, { fanoutTickMs: 500 });
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'low', [600]);
  await setPolicy(env, t.hospital.general.id, 'critical', [2, 2]);
  await startTestWorker(env);
  operator = clientFor(server, await t.token('general', 'operator'));
  head = clientFor(server, await t.token('general', 'head'));
  nurse = clientFor(server, await t.token('general', 'nurse.icu'));
});

const code = (p: Promise<unknown>) => p.then(() => 'OK', (e) => e.data?.code ?? String(e));
const raise = (over: Record<string, unknown> = {}) =>
  operator.alerts.create.mutate({ title: 'Low to start', priority: 'low', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, ...over } as never);

describe('alerts.update', () => {
  it('corrects title, description and room with an updated event', async () => {
    const alert = await raise({ roomNumber: '12' });
    const updated = await operator.alerts.update.mutate({ alertId: alert.id, title: 'Corrected', description: 'More detail', roomNumber: '14' });
    expect(updated).toMatchObject({ title: 'Corrected', description: 'More detail', roomNumber: '14', version: 2 });
    const detail = await head.alerts.getById.query({ alertId: alert.id });
    expect(detail.events.map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['updated', { changed: ['title', 'description', 'roomNumber'] }],
    ]);
  });

  it('a priority raised to critical escalates on the critical timeline', async () => {
    const alert = await raise();
    expect(Date.parse(alert.nextEscalationAt!) - Date.now()).toBeGreaterThan(500_000);
    const raised = await head.alerts.update.mutate({ alertId: alert.id, priority: 'critical' });
    expect(raised.priority).toBe('critical');
    expect(Date.parse(raised.nextEscalationAt!) - Date.parse(alert.createdAt)).toBeLessThanOrEqual(2_100);
    await waitUntil(async () => (await head.alerts.getById.query({ alertId: alert.id })).alert.escalationLevel === 1, 5_000, 'the critical escalation');
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_escalations WHERE alert_id = ${alert.id} AND reason = 'timeout'`);
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses nurses, other hospitals, closed alerts and empty or malformed changes', async () => {
    const alert = await raise();
    expect(await code(nurse.alerts.update.mutate({ alertId: alert.id, title: 'x' }))).toBe('FORBIDDEN');
    expect(await code(clientFor(server, await t.token('riverside', 'admin')).alerts.update.mutate({ alertId: alert.id, title: 'x' }))).toBe('NOT_FOUND');
    expect(await code(operator.alerts.update.mutate({ alertId: alert.id }))).toBe('BAD_REQUEST');
    expect(await code(operator.alerts.update.mutate({ alertId: alert.id, priority: 'urgent' } as never))).toBe('BAD_REQUEST');
    expect(await code(operator.alerts.update.mutate({ alertId: alert.id, title: '  ' }))).toBe('BAD_REQUEST');
    await operator.alerts.cancel.mutate({ alertId: alert.id });
    expect(await code(operator.alerts.update.mutate({ alertId: alert.id, title: 'late' }))).toBe('CONFLICT');
  });
});

describe('event-log retention', () => {
  it('prunes events past the retention age, and a lastEventId older than what is kept must resync', async () => {
    const old = await raise({ title: 'Old news' });
    const { lastEventId: beforePrune } = await head.alerts.getActive.query();
    // Age every event so far past the 30-day retention (test set-up).
    await env.deps.db.execute(sql`UPDATE alert_events SET occurred_at = now() - interval '31 days' WHERE hospital_id = ${t.hospital.general.id}`);
    const fresh = await raise({ title: 'Fresh' });
    const result = (await eventRetentionProcessor.run(env.deps, {}, env.deps.log)) as { pruned: number };
    expect(result.pruned).toBeGreaterThan(0);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_events WHERE hospital_id = ${t.hospital.general.id}`);
    expect(rows[0]!.n).toBe(1);
    expect((await head.alerts.getById.query({ alertId: old.id })).events).toEqual([]);

    const stale = collectEvents(head, { lastEventId: String(Number(beforePrune) - 1) });
    await stale.until(() => stale.errors.length > 0);
    expect(stale.errors[0]!.code).toBe('PRECONDITION_FAILED');
    // From the beginning of what is kept ("0") still works.
    const fromStart = collectEvents(head, { lastEventId: '0' });
    await fromStart.until((e) => e.some((x) => x.alert.id === fresh.id));
    expect(fromStart.events.map((e) => e.alert.id)).toEqual([fresh.id]);
    stale.stop();
    fromStart.stop();
  });
});
