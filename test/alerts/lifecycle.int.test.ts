import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { codeOf } from '../support/errors.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
const as: Record<string, Client> = {};


async function countRows(): Promise<{ alerts: number; events: number; audit: number }> {
  const { rows } = await env.deps.db.execute<{ alerts: number; events: number; audit: number }>(
    sql`SELECT (SELECT count(*)::int FROM alerts) AS alerts, (SELECT count(*)::int FROM alert_events) AS events, (SELECT count(*)::int FROM audit_logs) AS audit`,
  );
  return rows[0]!;
}

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  for (const a of ['operator', 'admin', 'head', 'nurse.icu', 'doctor.icu', 'nurse.er'] as const) as[a] = clientFor(server, await t.token('general', a));
  as.otherOperator = clientFor(server, await t.token('riverside', 'operator'));
  as.otherAdmin = clientFor(server, await t.token('riverside', 'admin'));
  as.anonymous = clientFor(server);
});

const icu = () => t.hospital.general.departments.ICU;
const er = () => t.hospital.general.departments.ER;
const raise = (client: Client, over: Record<string, unknown> = {}) =>
  client.alerts.create.mutate({ title: 'Cardiac arrest', priority: 'critical', alertType: 'medical', departmentId: icu(), roomNumber: '312', ...over } as never);

describe('alerts.create', () => {
  it('raises an alert with its first escalation deadline, an event and an audit row', async () => {
    const before = await countRows();
    const alert = await raise(as.operator!);
    expect(alert).toMatchObject({ status: 'active', escalationLevel: 0, departmentCode: 'ICU', createdByName: 'Olive Operator', version: 1 });
    expect(Date.parse(alert.nextEscalationAt!)).toBeGreaterThan(Date.now() + 50_000);
    const after = await countRows();
    expect(after.alerts - before.alerts).toBe(1);
    expect(after.events - before.events).toBe(1);
    expect(after.audit - before.audit).toBe(1);
  });

  it('refuses roles without the permission, anonymous callers, other hospitals and bad input', async () => {
    const before = await countRows();
    expect(await codeOf(raise(as['nurse.icu']!))).toBe('FORBIDDEN');
    // The refused attempt itself is in the audit trail.
    const denied = await env.deps.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'access.denied' AND resource_id = 'alerts.create' AND user_id = ${t.user('general', 'nurse.icu').id} AND outcome = 'failure'`,
    );
    expect(denied.rows[0]!.n).toBe(1);
    expect(await codeOf(raise(as.anonymous!))).toBe('UNAUTHORIZED');
    expect(await codeOf(raise(as.otherOperator!))).toBe('NOT_FOUND');
    expect(await codeOf(raise(as.operator!, { departmentId: t.hospital.riverside.departments.ICU }))).toBe('NOT_FOUND');
    expect(await codeOf(raise(as.operator!, { priority: 'urgent' }))).toBe('BAD_REQUEST');
    expect(await codeOf(raise(as.operator!, { title: '   ' }))).toBe('BAD_REQUEST');
    expect(await codeOf(raise(as.operator!, { title: 'x'.repeat(500) }))).toBe('BAD_REQUEST');
    expect(await codeOf(raise(as.operator!, { expiresAt: '2001-01-01T00:00:00Z' }))).toBe('BAD_REQUEST');
    expect(await codeOf(raise(as.operator!, { departmentId: 42 }))).toBe('BAD_REQUEST');
    expect(await countRows()).toMatchObject({ alerts: before.alerts, events: before.events });
  });

  it('answers field errors for malformed input', async () => {
    const err = await raise(as.operator!, { priority: 'urgent', title: '' }).catch((e) => e);
    expect(err.data.code).toBe('BAD_REQUEST');
    expect(Object.keys(err.data.fieldErrors).sort()).toEqual(['priority', 'title']);
  });

  it('refuses an inactive department', async () => {
    await env.deps.db.execute(sql`UPDATE departments SET is_active = false WHERE id = ${t.hospital.general.departments.CARD}`);
    expect(await codeOf(raise(as.operator!, { departmentId: t.hospital.general.departments.CARD }))).toBe('NOT_FOUND');
    await env.deps.db.execute(sql`UPDATE departments SET is_active = true WHERE id = ${t.hospital.general.departments.CARD}`);
  });
});

describe('reading alerts', () => {
  it('getActive orders critical first, then oldest, and returns the event id it is current to', async () => {
    await raise(as.operator!, { priority: 'low', title: 'Low one' });
    await raise(as.operator!, { priority: 'high', title: 'High one', departmentId: er() });
    const { alerts, lastEventId } = await as.head!.alerts.getActive.query();
    const rank = { critical: 3, high: 2, medium: 1, low: 0 } as const;
    for (let i = 1; i < alerts.length; i++) {
      const [a, b] = [alerts[i - 1]!, alerts[i]!];
      expect(rank[a.priority] > rank[b.priority] || (a.priority === b.priority && a.createdAt <= b.createdAt)).toBe(true);
    }
    const { rows } = await env.deps.db.execute<{ m: string }>(sql`SELECT max(id)::text AS m FROM alert_events WHERE hospital_id = ${t.hospital.general.id}`);
    expect(lastEventId).toBe(rows[0]!.m);
    expect(alerts.every((a) => a.status === 'active' || a.status === 'acknowledged')).toBe(true);
  });

  it('shows nurses their department only, and another hospital nothing', async () => {
    const icuBoard = await as['nurse.icu']!.alerts.getActive.query();
    expect(icuBoard.alerts.length).toBeGreaterThan(0);
    expect(icuBoard.alerts.every((a) => a.departmentId === icu())).toBe(true);
    const erBoard = await as['nurse.er']!.alerts.getActive.query();
    expect(erBoard.alerts.every((a) => a.departmentId === er())).toBe(true);
    const other = await as.otherOperator!.alerts.getActive.query();
    expect(other.alerts.every((a) => a.hospitalId === t.hospital.riverside.id)).toBe(true);
  });

  it('getById gives the timeline; out-of-scope ids are NOT_FOUND', async () => {
    const alert = await raise(as.operator!);
    await as['nurse.icu']!.alerts.acknowledge.mutate({ alertId: alert.id });
    const detail = await as['doctor.icu']!.alerts.getById.query({ alertId: alert.id });
    expect(detail.events.map((e) => e.type)).toEqual(['created', 'acknowledged']);
    expect(detail.alert.acknowledgedByName).toBe('Nia ICU Nurse');
    expect(await codeOf(as['nurse.er']!.alerts.getById.query({ alertId: alert.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as.otherAdmin!.alerts.getById.query({ alertId: alert.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as.operator!.alerts.getById.query({ alertId: 'nope' }))).toBe('NOT_FOUND');
    expect(await codeOf(as.anonymous!.alerts.getById.query({ alertId: alert.id }))).toBe('UNAUTHORIZED');
    expect(await codeOf(as.operator!.alerts.getById.query({ alertId: '' }))).toBe('BAD_REQUEST');
  });

  it('list pages through history with a keyset cursor, newest first, with filters', async () => {
    for (let i = 0; i < 7; i++) await raise(as.operator!, { title: `Paged ${i}`, priority: 'medium', departmentId: er() });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await as.admin!.alerts.list.query({ priority: ['medium'], limit: 3, cursor });
      seen.push(...page.alerts.map((a) => a.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(7);
    const all = await as.admin!.alerts.list.query({ priority: ['medium'], limit: 100 });
    expect(all.alerts.map((a) => a.id)).toEqual(seen);
    const nurse = await as['nurse.icu']!.alerts.list.query({ limit: 100 });
    expect(nurse.alerts.every((a) => a.departmentId === icu())).toBe(true);
    expect(await codeOf(as.admin!.alerts.list.query({ limit: 1000 }))).toBe('BAD_REQUEST');
    expect(await codeOf(as.admin!.alerts.list.query({ status: ['open'] } as never))).toBe('BAD_REQUEST');
  });
});

describe('the state machine', () => {
  it('acknowledge → resolve, with CONFLICT for illegal transitions', async () => {
    const alert = await raise(as.operator!);
    const acked = await as['nurse.icu']!.alerts.acknowledge.mutate({ alertId: alert.id });
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedByName: 'Nia ICU Nurse', nextEscalationAt: null, version: 2 });
    expect(await codeOf(as['doctor.icu']!.alerts.acknowledge.mutate({ alertId: alert.id }))).toBe('CONFLICT');
    expect(await codeOf(as.head!.alerts.escalate.mutate({ alertId: alert.id }))).toBe('CONFLICT');
    const resolved = await as['doctor.icu']!.alerts.resolve.mutate({ alertId: alert.id });
    expect(resolved).toMatchObject({ status: 'resolved', resolvedByName: 'Dr. Ivan ICU' });
    expect(await codeOf(as.admin!.alerts.cancel.mutate({ alertId: alert.id }))).toBe('CONFLICT');
    expect(await codeOf(as['nurse.icu']!.alerts.resolve.mutate({ alertId: alert.id }))).toBe('CONFLICT');
  });

  it('permissions: nurses cannot cancel or escalate, operators cannot acknowledge, other departments see nothing', async () => {
    const alert = await raise(as.operator!);
    expect(await codeOf(as['nurse.icu']!.alerts.cancel.mutate({ alertId: alert.id }))).toBe('FORBIDDEN');
    expect(await codeOf(as['nurse.icu']!.alerts.escalate.mutate({ alertId: alert.id }))).toBe('FORBIDDEN');
    expect(await codeOf(as.operator!.alerts.acknowledge.mutate({ alertId: alert.id }))).toBe('FORBIDDEN');
    expect(await codeOf(as['nurse.er']!.alerts.acknowledge.mutate({ alertId: alert.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as.otherAdmin!.alerts.resolve.mutate({ alertId: alert.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as.anonymous!.alerts.resolve.mutate({ alertId: alert.id }))).toBe('UNAUTHORIZED');
    expect(await codeOf(as['nurse.icu']!.alerts.acknowledge.mutate({ alertId: 7 } as never))).toBe('BAD_REQUEST');
  });

  it('operators cancel only their own alerts; head doctors and admins any', async () => {
    const mine = await raise(as.operator!);
    const admins = await raise(as.admin!);
    expect(await codeOf(as.operator!.alerts.cancel.mutate({ alertId: admins.id }))).toBe('FORBIDDEN');
    expect((await as.operator!.alerts.cancel.mutate({ alertId: mine.id })).status).toBe('cancelled');
    expect((await as.head!.alerts.cancel.mutate({ alertId: admins.id })).status).toBe('cancelled');
    const { rows } = await env.deps.db.execute<{ outcome: string }>(
      sql`SELECT outcome::text FROM audit_logs WHERE resource_id = ${admins.id} AND action = 'alert.cancelled' ORDER BY seq`,
    );
    expect(rows.map((r) => r.outcome)).toEqual(['failure', 'success']);
  });

  it('manual escalation climbs to the policy top and then refuses', async () => {
    const alert = await raise(as.operator!, { priority: 'low' }); // default low policy has one level
    const up = await as.head!.alerts.escalate.mutate({ alertId: alert.id });
    expect(up.escalationLevel).toBe(1);
    expect(up.nextEscalationAt).toBeNull();
    expect(await codeOf(as.admin!.alerts.escalate.mutate({ alertId: alert.id }))).toBe('CONFLICT');
    const detail = await as.head!.alerts.getById.query({ alertId: alert.id });
    expect(detail.escalations).toMatchObject([{ fromLevel: 0, toLevel: 1, reason: 'manual' }]);
  });

  it('of many simultaneous acknowledgements exactly one wins', async () => {
    const alert = await raise(as.operator!);
    const clients = [as['nurse.icu']!, as['doctor.icu']!, as.head!, as.admin!];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => codeOf(clients[i % clients.length]!.alerts.acknowledge.mutate({ alertId: alert.id }))));
    expect(results.filter((r) => r === 'OK')).toHaveLength(1);
    expect(results.filter((r) => r === 'CONFLICT')).toHaveLength(11);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_events WHERE alert_id = ${alert.id} AND type = 'acknowledged'`);
    expect(rows[0]!.n).toBe(1);
  });
});
