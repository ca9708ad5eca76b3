import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDeps, createDeps } from '../../server/deps.js';
import { presenceCheckProcessor } from '../../worker/processors/presence.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Collector, clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, startTestWorker, waitUntil } from '../support/worker.js';

let env: TestEnv;
let a: TestServer;
let b: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
let operator: Client;
let nurse: Client;
let doctor: Client;
let nurseEr: Client;
const collectors: Collector[] = [];
let room = 100;

beforeAll(async () => {
  env = await createTestEnv({ SWEEP_INTERVAL_MS: '500' });
  a = await startTestServer(env, { separate: true, fanoutTickMs: 500 });
  b = await startTestServer(env, { separate: true, fanoutTickMs: 500 });
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'high', [30, 30], { ackTimeoutSeconds: 1 });
  await startTestWorker(env);
  operator = clientFor(a, await t.token('general', 'operator'));
  nurse = clientFor(a, await t.token('general', 'nurse.icu'));
  doctor = clientFor(b, await t.token('general', 'doctor.icu'));
  nurseEr = clientFor(b, await t.token('general', 'nurse.er'));
});
afterAll(() => {
  for (const c of collectors) c.stop();
});

const raise = (over: Record<string, unknown> = {}) =>
  operator.alerts.create.mutate({ title: 'Needs a nurse', priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: String(room++), ...over } as never);
const code = (p: Promise<unknown>) => p.then(() => 'OK', (e) => e.data?.code ?? String(e));
async function types(alertId: string) {
  const { rows } = await env.deps.db.execute<{ type: string; detail: Record<string, unknown> | null }>(sql`SELECT type::text, detail FROM alert_events WHERE alert_id = ${alertId} ORDER BY id`);
  return rows;
}

describe('decline', () => {
  it('records the reason and escalates at once', async () => {
    const alert = await raise();
    const declined = await nurse.alerts.decline.mutate({ alertId: alert.id, reason: 'In theatre with another patient' });
    expect(declined).toMatchObject({ status: 'active', escalationLevel: 1 });
    expect((await types(alert.id)).map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['declined', { reason: 'In theatre with another patient' }],
      ['escalated', { reason: 'declined' }],
    ]);
    const detail = await doctor.alerts.getById.query({ alertId: alert.id });
    expect(detail.escalations).toMatchObject([{ fromLevel: 0, toLevel: 1, reason: 'declined' }]);
    expect(detail.events.find((e) => e.type === 'declined')?.detail).toEqual({ reason: 'In theatre with another patient' });
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'alert.declined' AND resource_id = ${alert.id} AND metadata->>'reason' = 'In theatre with another patient'`);
    expect(rows[0]!.n).toBe(1);
  });

  it('at the top level, records the decline without escalating further', async () => {
    const alert = await raise();
    await nurse.alerts.decline.mutate({ alertId: alert.id, reason: 'first' });
    await doctor.alerts.decline.mutate({ alertId: alert.id, reason: 'second' });
    const third = await nurse.alerts.decline.mutate({ alertId: alert.id, reason: 'third' });
    expect(third.escalationLevel).toBe(2);
    expect((await types(alert.id)).map((e) => e.type)).toEqual(['created', 'declined', 'escalated', 'declined', 'escalated', 'declined']);
  });

  it('refuses a missing reason, other roles, other departments and closed alerts', async () => {
    const alert = await raise();
    expect(await code(nurse.alerts.decline.mutate({ alertId: alert.id, reason: '' }))).toBe('BAD_REQUEST');
    expect(await code(operator.alerts.decline.mutate({ alertId: alert.id, reason: 'not mine' }))).toBe('FORBIDDEN');
    expect(await code(nurseEr.alerts.decline.mutate({ alertId: alert.id, reason: 'not mine' }))).toBe('NOT_FOUND');
    expect(await code(clientFor(a).alerts.decline.mutate({ alertId: alert.id, reason: 'anon' }))).toBe('UNAUTHORIZED');
    await nurse.alerts.acknowledge.mutate({ alertId: alert.id });
    expect(await code(doctor.alerts.decline.mutate({ alertId: alert.id, reason: 'too late' }))).toBe('CONFLICT');
  });
});

describe('acknowledgement timeout', () => {
  it('an acknowledged alert not resolved in time reopens, needing attention, and escalates', async () => {
    const head = collectEvents(clientFor(b, await t.token('general', 'head')));
    collectors.push(head);
    await head.started;
    const alert = await raise();
    const acked = await nurse.alerts.acknowledge.mutate({ alertId: alert.id });
    expect(acked.ackDeadlineAt).not.toBeNull();
    await head.until((e) => e.some((x) => x.alert.id === alert.id && x.type === 'reopened'), 5_000);
    await waitUntil(async () => (await types(alert.id)).some((e) => e.type === 'escalated'), 3_000, 'the escalation');
    expect((await types(alert.id)).map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['acknowledged', null],
      ['reopened', { reason: 'ack_timeout' }],
      ['escalated', { reason: 'ack_timeout' }],
    ]);
    const board = await nurse.alerts.getActive.query();
    expect(board.alerts.find((x) => x.id === alert.id)).toMatchObject({ status: 'active', escalationLevel: 1, acknowledgedBy: null });
  });

  it('a resolve in time cancels it', async () => {
    const alert = await raise();
    await nurse.alerts.acknowledge.mutate({ alertId: alert.id });
    await nurse.alerts.resolve.mutate({ alertId: alert.id });
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await types(alert.id)).map((e) => e.type)).toEqual(['created', 'acknowledged', 'resolved']);
  });
});

describe('duplicate suppression', () => {
  beforeAll(async () => {
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '120'::jsonb) WHERE id = ${t.hospital.general.id}`);
  });
  afterAll(async () => {
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '0'::jsonb) WHERE id = ${t.hospital.general.id}`);
  });

  // The same title is the same emergency (test/alerts/dedup.int.test.ts covers the rule in full):
  // a different title in the same room is a different one and never folds.
  it('an identical alert within the window bumps the first one instead of creating a second', async () => {
    const first = await raise({ roomNumber: 'D-1' });
    expect(first.deduplicated).toBe(false);
    const again = await raise({ roomNumber: 'D-1', title: 'needs a NURSE' });
    expect(again).toMatchObject({ id: first.id, deduplicated: true, repeatCount: 1 });
    expect((await raise({ roomNumber: 'D-1', title: 'Needs a nurse (again)' })).id).not.toBe(first.id);
    expect((await types(first.id)).map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['repeated', { repeatCount: 1 }],
    ]);
    const other = await raise({ roomNumber: 'D-2' });
    expect(other.id).not.toBe(first.id);
  });

  it('of five identical simultaneous raises exactly one creates the alert', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => raise({ roomNumber: 'D-3', alertType: 'fall' })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
    const { rows } = await env.deps.db.execute<{ repeat_count: number }>(sql`SELECT repeat_count FROM alerts WHERE id = ${results[0]!.id}`);
    expect(rows[0]!.repeat_count).toBe(4);
  });
});

describe('delivery receipts', () => {
  it('boards on two instances report delivered and seen; the operator sees the summary', async () => {
    const alert = await raise();
    expect(await nurse.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'delivered' }] })).toEqual({ recorded: 1 });
    await doctor.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'delivered' }, { alertId: alert.id, kind: 'seen' }] });
    await nurse.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'delivered' }] }); // repeats change nothing
    const detail = await operator.alerts.getById.query({ alertId: alert.id });
    expect(detail.receipts.map((r) => [r.userName, r.seenAt !== null]).sort()).toEqual([
      ['Dr. Ivan ICU', true],
      ['Nia ICU Nurse', false],
    ]);
    await nurse.alerts.acknowledge.mutate({ alertId: alert.id });
    expect(await operator.alerts.receiptSummary.query({ alertIds: [alert.id] })).toEqual([
      { alertId: alert.id, deliveredScreens: 2, departmentScreens: 2, seenBy: ['Dr. Ivan ICU'], acknowledgedBy: 'Nia ICU Nurse' },
    ]);
  });

  it('ignores alerts the board may not see, and refuses malformed batches', async () => {
    const alert = await raise();
    expect(await nurseEr.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'seen' }] })).toEqual({ recorded: 0 });
    expect(await code(nurse.alerts.reportReceipts.mutate({ receipts: [] }))).toBe('BAD_REQUEST');
    expect(await code(nurse.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'read' }] } as never))).toBe('BAD_REQUEST');
    expect(await code(nurse.alerts.receiptSummary.query({ alertIds: [alert.id] }))).toBe('FORBIDDEN');
    expect(await code(clientFor(a, await t.token('riverside', 'operator')).alerts.receiptSummary.query({ alertIds: [alert.id] }))).toBe('OK');
    expect(await clientFor(a, await t.token('riverside', 'operator')).alerts.receiptSummary.query({ alertIds: [alert.id] })).toEqual([]);
  });
});

describe('screens online', () => {
  it('counts boards per department across instances, and forgets them when they close', async () => {
    const icu = t.hospital.general.departments.ICU;
    const before = (await operator.hospitals.getPresence.query()).departments.find((d) => d.departmentId === icu)!.screensOnline;
    const one = collectEvents(clientFor(a, await t.token('general', 'nurse.icu')));
    const two = collectEvents(clientFor(b, await t.token('general', 'doctor.icu')));
    await Promise.all([one.started, two.started]);
    await waitUntil(async () => (await operator.hospitals.getPresence.query()).departments.find((d) => d.departmentId === icu)!.screensOnline === before + 2, 3_000, 'two screens');
    one.stop();
    two.stop();
    await waitUntil(async () => (await operator.hospitals.getPresence.query()).departments.find((d) => d.departmentId === icu)!.screensOnline === before, 3_000, 'screens to go');
    expect(await code(nurse.hospitals.getPresence.query())).toBe('FORBIDDEN');
  });

  it('a department without a board for too long raises one system alert; a Redis outage raises none', async () => {
    const card = t.hospital.general.departments.CARD;
    await env.deps.redis.sadd(`${env.config.redis.keyPrefix}:presence-known:${t.hospital.general.id}`, card);
    // Redis down: nothing is raised.
    const cut = createDeps(env.config, env.deps.log);
    cut.redis.disconnect();
    expect(await presenceCheckProcessor.run(cut, {}, env.deps.log)).toMatchObject({ raised: 0, skipped: 'redis unavailable' });
    await closeDeps(cut);
    // First sight of an empty department starts its clock; once it is older than the setting, one alert.
    await presenceCheckProcessor.run(env.deps, {}, env.deps.log);
    const key = `${env.config.redis.keyPrefix}:presence-empty:${t.hospital.general.id}:${card}`;
    await env.deps.redis.set(key, JSON.stringify({ since: Date.now() - 10 * 60_000, alerted: false }));
    expect(await presenceCheckProcessor.run(env.deps, {}, env.deps.log)).toEqual({ raised: 1 });
    expect(await presenceCheckProcessor.run(env.deps, {}, env.deps.log)).toEqual({ raised: 0 });
    const { rows } = await env.deps.db.execute<{ title: string; created_by: string | null; priority: string }>(
      sql`SELECT title, created_by, priority::text FROM alerts WHERE alert_type = 'no-screen' AND department_id = ${card}`,
    );
    expect(rows).toEqual([{ title: 'No screen online in Cardiology', created_by: null, priority: 'high' }]);
    const head = await clientFor(a, await t.token('general', 'head')).alerts.getActive.query();
    expect(head.alerts.some((x) => x.alertType === 'no-screen')).toBe(true);
  });
});
