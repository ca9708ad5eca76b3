import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectAlertById } from '../../server/alerts/queries.js';
import { type CreatedAlert, createAlertInput } from '../../server/alerts/schemas.js';
import { createAlert, systemAudit } from '../../server/alerts/service.js';
import { verifyChain } from '../../server/audit/verify.js';
import type { Actor } from '../../server/permissions.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { trpcError } from '../support/errors.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Contract of clarion_create_alert (migrations/0009): the alert it builds in SQL is, key for key and to
// the millisecond, what toAlert() reads back for the same id; its event and audit rows are the ones the
// old multi-statement path wrote; refusals write nothing; events commit in id order per hospital.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let room = 100;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '120'::jsonb) WHERE id = ${t.hospital.general.id}`);
});

const op = (): Actor => t.user('general', 'operator') as Actor;
const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: '10.0.0.7', userAgent: 'contract-test', sessionId: null });
const icu = () => t.hospital.general.departments.ICU;
const nextRoom = () => `C${room++}`;
type Input = Parameters<typeof createAlert>[3];
const raise = (input: Partial<Input> & { title: string }) =>
  createAlert(env.deps, op(), auditOf(op()), { priority: 'high', alertType: 'medical', departmentId: icu(), ...input } as Input);

function wire(created: CreatedAlert) {
  const { deduplicated: _d, priorityRaisedFrom: _p, ...alert } = created;
  return alert;
}

async function eventsOf(alertId: string) {
  const { rows } = await env.deps.db.execute<{ id: string; type: string; alert: unknown; actor_id: string | null; detail: unknown }>(
    sql`SELECT id::text, type::text, alert, actor_id, detail FROM alert_events WHERE alert_id = ${alertId} ORDER BY alert_events.id`,
  );
  return rows;
}

async function auditOfAlert(alertId: string) {
  const { rows } = await env.deps.db.execute<{ action: string; metadata: Record<string, unknown>; user_id: string | null; ip_address: string | null; user_agent: string | null }>(
    sql`SELECT action, metadata, user_id, ip_address, user_agent FROM audit_logs WHERE resource = 'alert' AND resource_id = ${alertId} ORDER BY seq`,
  );
  return rows;
}

/** The contract: the returned alert and the last event's alert are exactly what toAlert() reads now. */
async function expectContract(created: CreatedAlert) {
  const read = await selectAlertById(env.deps.db, created.id);
  expect(wire(created)).toStrictEqual(read);
  const events = await eventsOf(created.id);
  expect(events[events.length - 1]?.alert).toStrictEqual(read);
  return events;
}

async function counts() {
  const { rows } = await env.deps.db.execute<{ a: number; e: number; l: number }>(
    sql`SELECT (SELECT count(*)::int FROM alerts) AS a, (SELECT count(*)::int FROM alert_events) AS e, (SELECT count(*)::int FROM audit_logs) AS l`,
  );
  return rows[0];
}

describe('clarion_create_alert: the alert JSON equals toAlert()', () => {
  it('a new alert with room, description, expiry and a named creator', async () => {
    const expiresAt = new Date(Date.now() + 3_600_789).toISOString();
    const created = await raise({ title: 'Contract full', description: 'All fields', roomNumber: nextRoom(), expiresAt, alertType: 'Medical', priority: 'critical' });
    expect(created).toMatchObject({ deduplicated: false, priorityRaisedFrom: null, alertType: 'medical', createdByName: expect.any(String), expiresAt, repeatCount: 0, version: 1 });
    expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Critical level 0 is 60 s on the default policy, counted from the insert.
    expect(Date.parse(created.nextEscalationAt as string) - Date.parse(created.createdAt)).toBeGreaterThanOrEqual(59_999);
    expect(Date.parse(created.nextEscalationAt as string) - Date.parse(created.createdAt)).toBeLessThanOrEqual(60_000);
    const events = await expectContract(created);
    expect(events.map((e) => [e.type, e.actor_id, e.detail])).toEqual([['created', op().id, null]]);
    expect(await auditOfAlert(created.id)).toEqual([
      {
        action: 'alert.created',
        metadata: { priority: 'critical', departmentId: icu(), eventId: events[0]?.id },
        user_id: op().id,
        ip_address: '10.0.0.7',
        user_agent: 'contract-test',
      },
    ]);
  });

  it('a system raise without room, description, expiry or creator', async () => {
    const hospitalId = t.hospital.general.id;
    const created = await createAlert(env.deps, null, systemAudit(hospitalId), { title: 'Contract bare', priority: 'low', alertType: 'system', departmentId: icu(), hospitalId });
    expect(created).toMatchObject({ roomNumber: null, description: null, expiresAt: null, createdBy: null, createdByName: null });
    const events = await expectContract(created);
    expect(events.map((e) => e.actor_id)).toEqual([null]);
  });

  it('a repeat: count, version and a repeated event with the old detail shape', async () => {
    const r = nextRoom();
    const first = await raise({ title: 'Contract repeat', roomNumber: r });
    const again = await raise({ title: ' contract REPEAT', roomNumber: r });
    expect(again).toMatchObject({ id: first.id, deduplicated: true, priorityRaisedFrom: null, repeatCount: 1, version: 2, priority: 'high' });
    const events = await expectContract(again);
    expect(events[0]?.alert).toStrictEqual(wire(first));
    expect(events.map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['repeated', { repeatCount: 1 }],
    ]);
    expect((await auditOfAlert(first.id)).map((a) => [a.action, a.metadata])).toEqual([
      ['alert.created', { priority: 'high', departmentId: icu(), eventId: events[0]?.id }],
      ['alert.repeated', { from: 'active', to: 'active', level: 0, repeatCount: 1, eventId: events[1]?.id }],
    ]);
  });

  it('a priority-raised repeat moves the deadline onto the new timeline from when the level was reached', async () => {
    const r = nextRoom();
    const first = await raise({ title: 'Contract raise', roomNumber: r, priority: 'low' });
    const again = await raise({ title: 'Contract raise', roomNumber: r, priority: 'critical' });
    expect(again).toMatchObject({ id: first.id, deduplicated: true, priorityRaisedFrom: 'low', priority: 'critical', repeatCount: 1 });
    expect(Date.parse(again.nextEscalationAt as string) - Date.parse(first.createdAt)).toBeGreaterThanOrEqual(59_999);
    expect(Date.parse(again.nextEscalationAt as string) - Date.parse(first.createdAt)).toBeLessThanOrEqual(60_000);
    const events = await expectContract(again);
    expect(events.map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['updated', { changed: ['priority'], priority: { from: 'low', to: 'critical' }, reason: 'repeat' }],
      ['repeated', { repeatCount: 1 }],
    ]);
    expect(events[1]?.alert).toStrictEqual(events[2]?.alert);
    const audit = await auditOfAlert(first.id);
    expect(audit.map((a) => a.action)).toEqual(['alert.created', 'alert.repeated']);
    expect(audit[1]?.metadata).toEqual({ from: 'active', to: 'active', level: 0, repeatCount: 1, priorityRaisedFrom: 'low', priority: 'critical', eventId: events[2]?.id });
  });

  it('a raised repeat of an escalated alert counts from its last escalation; past due is due now; above the new top, no deadline', async () => {
    /** A medium alert escalated to level 1 `secondsAgo`, then raised again at `priority`. */
    const escalatedThenRaised = async (title: string, secondsAgo: number, priority: 'high' | 'critical') => {
      const r = nextRoom();
      const a = await raise({ title, roomNumber: r, priority: 'medium' });
      await env.deps.db.execute(sql`UPDATE alerts SET escalation_level = 1 WHERE id = ${a.id}`);
      await env.deps.db.execute(sql`INSERT INTO alert_escalations (alert_id, hospital_id, from_level, to_level, reason, escalated_at)
        VALUES (${a.id}, ${a.hospitalId}, 0, 1, 'timeout', now() - make_interval(secs => ${secondsAgo}))`);
      return raise({ title, roomNumber: r, priority });
    };
    const raised = await escalatedThenRaised('Contract level', 10, 'high');
    await expectContract(raised);
    // high level 1 is 300 s on the default policy, from the escalation 10 s ago.
    expect((Date.parse(raised.nextEscalationAt as string) - Date.now()) / 1000).toBeCloseTo(290, -1);

    const due = await escalatedThenRaised('Contract due', 3_600, 'critical');
    await expectContract(due);
    expect(Math.abs(Date.parse(due.nextEscalationAt as string) - Date.now())).toBeLessThan(5_000);

    const r3 = nextRoom();
    const c = await raise({ title: 'Contract top', roomNumber: r3, priority: 'low' });
    await env.deps.db.execute(sql`UPDATE alerts SET escalation_level = 2 WHERE id = ${c.id}`);
    const top = await raise({ title: 'Contract top', roomNumber: r3, priority: 'medium' });
    await expectContract(top);
    expect(top).toMatchObject({ priority: 'medium', escalationLevel: 2, nextEscalationAt: null });
  });

  it('a raised repeat of an acknowledged alert changes its priority, not its status or deadline', async () => {
    const r = nextRoom();
    const first = await raise({ title: 'Contract acked', roomNumber: r, priority: 'medium' });
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    const acked = await nurse.alerts.acknowledge.mutate({ alertId: first.id });
    const again = await raise({ title: 'Contract acked', roomNumber: r, priority: 'critical' });
    expect(again).toMatchObject({ status: 'acknowledged', priority: 'critical', priorityRaisedFrom: 'medium', nextEscalationAt: null, ackDeadlineAt: acked.ackDeadlineAt });
    expect(again.acknowledgedByName).toEqual(expect.any(String));
    await expectContract(again);
    expect((await auditOfAlert(first.id)).at(-1)?.metadata).toMatchObject({ from: 'acknowledged', to: 'acknowledged' });
  });

  it('settings changed behind the cache are used at once (the function refuses the stale copy)', async () => {
    const hospitalId = t.hospital.general.id;
    await raise({ title: 'Contract warm cache', roomNumber: nextRoom() });
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,high,levelTimeoutsSeconds}', '[900]'::jsonb) WHERE id = ${hospitalId}`);
    const created = await raise({ title: 'Contract new policy', roomNumber: nextRoom() });
    expect(Date.parse(created.nextEscalationAt as string) - Date.parse(created.createdAt)).toBeGreaterThanOrEqual(899_999);
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = settings #- '{escalation,high}' WHERE id = ${hospitalId}`);
  });
});

describe('refusals write nothing', () => {
  it('malformed input is rejected by zod before any SQL', async () => {
    const operator = clientFor(server, await t.token('general', 'operator'));
    const before = await counts();
    for (const bad of [
      { title: '   ', priority: 'high', alertType: 'medical', departmentId: icu() },
      { title: 'Bad type', priority: 'high', alertType: 'no spaces!', departmentId: icu() },
      { title: 'Bad priority', priority: 'urgent', alertType: 'medical', departmentId: icu() },
      { title: 'Past expiry', priority: 'high', alertType: 'medical', departmentId: icu(), expiresAt: new Date(Date.now() - 1000).toISOString() },
    ]) {
      expect(createAlertInput.safeParse(bad).success).toBe(false);
      expect((await trpcError(operator.alerts.create.mutate(bad as never))).code).toBe('BAD_REQUEST');
    }
    expect(await counts()).toEqual(before);
  });

  it("another hospital's department, an inactive one or none: NOT_FOUND and nothing written", async () => {
    const operator = clientFor(server, await t.token('general', 'operator'));
    await env.deps.db.execute(sql`UPDATE departments SET is_active = false WHERE id = ${t.hospital.riverside.departments.CARD}`);
    const before = await counts();
    for (const departmentId of [t.hospital.riverside.departments.ICU, t.hospital.riverside.departments.CARD, 'no-such-department']) {
      const err = await trpcError(operator.alerts.create.mutate({ title: 'Elsewhere', priority: 'high', alertType: 'medical', departmentId }));
      expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'Department not found' });
    }
    expect(await counts()).toEqual(before);
  });
});

describe('order and chain', () => {
  it('200 concurrent creates in one hospital: event ids commit in id order, the audit chain follows them and verifies', async () => {
    const hospitalId = t.hospital.general.id;
    // A reader that asks for `id > last` again and again, as the fan-out does: a lower id committing
    // after a higher one was read would be skipped for ever.
    const seen: number[] = [];
    let done = false;
    const readNew = async () => {
      const { rows } = await env.deps.db.execute<{ id: string }>(sql`SELECT id::text FROM alert_events WHERE hospital_id = ${hospitalId} AND id > ${seen.at(-1) ?? 0} ORDER BY alert_events.id`);
      seen.push(...rows.map((r) => Number(r.id)));
    };
    await readNew();
    const from = seen.at(-1) ?? 0;
    const poll = (async () => {
      while (!done) await readNew();
    })();
    const first = await raise({ title: 'Order start', roomNumber: nextRoom() });
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => raise({ title: `Order ${i}`, roomNumber: nextRoom() })));
    done = true;
    await poll;
    await readNew();
    const { rows: all } = await env.deps.db.execute<{ id: string }>(sql`SELECT id::text FROM alert_events WHERE hospital_id = ${hospitalId} AND id > ${from} ORDER BY alert_events.id`);
    expect(seen.filter((id) => id > from)).toEqual(all.map((r) => Number(r.id)));
    expect(new Set(created.map((c) => c.id)).size).toBe(200);
    const { rows } = await env.deps.db.execute<{ event_id: string }>(
      sql`SELECT metadata->>'eventId' AS event_id FROM audit_logs WHERE hospital_id = ${hospitalId} AND action = 'alert.created' AND resource_id IN ${[first.id, ...created.map((c) => c.id)]} ORDER BY seq`,
    );
    const ids = rows.map((r) => Number(r.event_id));
    expect(ids).toHaveLength(201);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(await verifyChain(env.deps.db, hospitalId)).toMatchObject({ verified: true });
  }, 60_000);
});
