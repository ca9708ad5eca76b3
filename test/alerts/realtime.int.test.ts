import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { revokeSessions } from '../../server/auth/sessions.js';
import { closeDeps, createDeps } from '../../server/deps.js';
import { createFastFailRedis } from '../../server/redis.js';
import { publishControl } from '../../server/realtime/control.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Collector, clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Two server instances sharing Postgres and Redis, as behind a load balancer.
let env: TestEnv;
let a: TestServer;
let b: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
let operatorA: Client;
let headB: Client;
let nurseIcuB: Client;
let nurseErA: Client;
let otherOperatorA: Client;
const collectors: Collector[] = [];
const watch = (client: Client, input?: { lastEventId?: string }) => {
  const c = collectEvents(client, input);
  collectors.push(c);
  return c;
};

beforeAll(async () => {
  // A long tick proves delivery comes from the Redis wake-up; tests that need the tick say so.
  env = await createTestEnv();
  a = await startTestServer(env, { separate: true, fanoutTickMs: 60_000 });
  b = await startTestServer(env, { separate: true, fanoutTickMs: 60_000 });
  t = await seedTenants(env);
  operatorA = clientFor(a, await t.token('general', 'operator'));
  headB = clientFor(b, await t.token('general', 'head'));
  nurseIcuB = clientFor(b, await t.token('general', 'nurse.icu'));
  nurseErA = clientFor(a, await t.token('general', 'nurse.er'));
  otherOperatorA = clientFor(a, await t.token('riverside', 'operator'));
});
afterAll(() => {
  for (const c of collectors) c.stop();
});

const raise = (over: Record<string, unknown> = {}) =>
  operatorA.alerts.create.mutate({ title: 'Cardiac arrest', priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, ...over } as never);

describe('fan-out across instances', () => {
  it('an alert raised on one instance reaches exactly the screens that may see it on the other', async () => {
    const icu = watch(nurseIcuB);
    const head = watch(headB);
    const er = watch(nurseErA);
    const other = watch(otherOperatorA);
    await Promise.all([icu.started, head.started, er.started, other.started]);
    await new Promise((r) => setTimeout(r, 100));

    const icuAlert = await raise();
    const erAlert = await raise({ departmentId: t.hospital.general.departments.ER, title: 'Fall' });
    await icu.until((e) => e.some((x) => x.alert.id === icuAlert.id), 2_000);
    await head.until((e) => e.some((x) => x.alert.id === erAlert.id) && e.some((x) => x.alert.id === icuAlert.id), 2_000);
    await er.until((e) => e.some((x) => x.alert.id === erAlert.id), 2_000);

    // Every event type of the ICU alert reaches the ICU nurse and the head doctor, and never the ER nurse.
    const ack = await clientFor(b, await t.token('general', 'doctor.icu')).alerts.acknowledge.mutate({ alertId: icuAlert.id });
    expect(ack.status).toBe('acknowledged');
    await headB.alerts.resolve.mutate({ alertId: icuAlert.id });
    const escalated = await raise({ priority: 'high' });
    await headB.alerts.escalate.mutate({ alertId: escalated.id });
    await operatorA.alerts.cancel.mutate({ alertId: escalated.id });
    const typesFor = (c: Collector, id: string) => c.events.filter((e) => e.alert.id === id).map((e) => e.type);
    await icu.until((e) => typesFor({ events: e } as Collector, escalated.id).length === 3);
    await head.until((e) => typesFor({ events: e } as Collector, escalated.id).length === 3);
    expect(typesFor(icu, icuAlert.id)).toEqual(['created', 'acknowledged', 'resolved']);
    expect(typesFor(icu, escalated.id)).toEqual(['created', 'escalated', 'cancelled']);
    expect(typesFor(head, icuAlert.id)).toEqual(['created', 'acknowledged', 'resolved']);

    await new Promise((r) => setTimeout(r, 200));
    expect(icu.events.every((e) => e.alert.departmentId === t.hospital.general.departments.ICU)).toBe(true);
    expect(er.events.every((e) => e.alert.departmentId === t.hospital.general.departments.ER)).toBe(true);
    expect(other.events).toEqual([]);
    // Ids increase strictly on every stream: commit order, no duplicates.
    for (const c of [icu, head, er]) {
      const ids = c.events.map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(ids.length);
    }
    for (const c of [icu, head, er, other]) c.stop();
  });

  it('replay after a disconnect delivers exactly what was missed, in order, then goes live', async () => {
    const { lastEventId } = await headB.alerts.getActive.query();
    const missed: string[] = [];
    for (let i = 0; i < 5; i++) missed.push((await raise({ title: `Missed ${i}` })).id);
    const head = watch(headB, { lastEventId });
    await head.until((e) => e.length >= 5);
    expect(head.events.map((e) => e.alert.id)).toEqual(missed);
    expect(head.events.every((e) => e.type === 'created')).toBe(true);
    const live = await raise({ title: 'Live' });
    await head.until((e) => e.some((x) => x.alert.id === live.id));
    expect(head.events).toHaveLength(6);
    head.stop();
  });

  it('replays only what the subscriber may see', async () => {
    const { lastEventId } = await nurseIcuB.alerts.getActive.query();
    const er = await raise({ departmentId: t.hospital.general.departments.ER });
    const icu = await raise();
    const c = watch(nurseIcuB, { lastEventId });
    await c.until((e) => e.some((x) => x.alert.id === icu.id));
    expect(c.events.map((e) => e.alert.id)).not.toContain(er.id);
    c.stop();
  });

  it('a lastEventId ahead of the log asks the client to resync (PRECONDITION_FAILED)', async () => {
    const c = watch(headB, { lastEventId: '999999999' });
    await c.until(() => c.errors.length > 0);
    expect(c.errors[0]!.code).toBe('PRECONDITION_FAILED');
  });

  it('malformed lastEventId is BAD_REQUEST; an anonymous or bad token is UNAUTHORIZED', async () => {
    const bad = watch(headB, { lastEventId: 'abc' });
    await bad.until(() => bad.errors.length > 0);
    expect(bad.errors[0]!.code).toBe('BAD_REQUEST');
    const anon = watch(clientFor(a));
    await anon.until(() => anon.errors.length > 0);
    expect(anon.errors[0]!.code).toBe('UNAUTHORIZED');
    const forged = watch(clientFor(a, 'not-a-real-token'));
    await forged.until(() => forged.errors.length > 0);
    expect(forged.errors[0]!.code).toBe('UNAUTHORIZED');
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
  });
});

describe('Redis trouble loses nothing', () => {
  it('events raised while the fan-out connection is killed arrive after it reconnects', async () => {
    const head = watch(headB);
    await head.started;
    await new Promise((r) => setTimeout(r, 100));
    const admin = createFastFailRedis(env.config.redis, 'test-admin');
    await new Promise((r) => admin.once('ready', r));
    const list = (await admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((l) => l.includes(`name=${env.config.redis.keyPrefix}-fanout`))
      .map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(ids).toHaveLength(2);
    for (const id of ids) await admin.client('KILL', 'ID', id);
    const raised: string[] = [];
    for (let i = 0; i < 5; i++) raised.push((await raise({ title: `During outage ${i}` })).id);
    admin.disconnect();
    await head.until((e) => raised.every((id) => e.some((x) => x.alert.id === id)), 5_000);
    expect(head.events.filter((e) => raised.includes(e.alert.id))).toHaveLength(5);
    head.stop();
  });

  it('a mutation succeeds when its publish fails, and the event still arrives by the tick', async () => {
    const c = await startTestServer(env, { separate: true, fanoutTickMs: 300 });
    const head = watch(clientFor(c, await t.token('general', 'head')));
    await head.started;
    await new Promise((r) => setTimeout(r, 100));
    // The raising process's request-path Redis is gone, so its publish fails fast.
    const isolated = createDeps(env.config, env.deps.log);
    isolated.redis.disconnect();
    const op = t.user('general', 'operator');
    const started = Date.now();
    const alert = await createAlert(
      isolated,
      { id: op.id, role: 'operator', hospitalId: op.hospitalId, departmentId: null },
      { userId: op.id, hospitalId: op.hospitalId, ip: null, userAgent: null, sessionId: null },
      { title: 'Published into the void', priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU },
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    await head.until((e) => e.some((x) => x.alert.id === alert.id), 3_000);
    await closeDeps(isolated);
    head.stop();
  });
});

describe('revocation reaches live sockets', () => {
  it('revoking a session ends its subscription on every instance with UNAUTHORIZED', async () => {
    const nurse = t.user('general', 'nurse.icu');
    const token = await t.token('general', 'nurse.icu');
    const onA = watch(clientFor(a, token));
    const onB = watch(clientFor(b, token));
    await Promise.all([onA.started, onB.started]);
    await new Promise((r) => setTimeout(r, 100));
    const sessionIds = await revokeSessions(env.deps.db, { userId: nurse.id }, 'test');
    const started = Date.now();
    publishControl(env.deps, { type: 'sessions.revoked', sessionIds });
    await onA.until(() => onA.errors.length > 0, 2_000);
    await onB.until(() => onB.errors.length > 0, 2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(onA.errors[0]!.code).toBe('UNAUTHORIZED');
    expect(onB.errors[0]!.code).toBe('UNAUTHORIZED');
  });

  it('a role change ends that user\'s subscriptions', async () => {
    const doctor = t.user('general', 'doctor.icu');
    const c = watch(clientFor(b, await t.token('general', 'doctor.icu')));
    await c.started;
    await new Promise((r) => setTimeout(r, 100));
    await env.deps.db.execute(sql`UPDATE users SET role = 'head_doctor' WHERE id = ${doctor.id}`);
    publishControl(env.deps, { type: 'user.changed', userId: doctor.id, reason: 'role' });
    await c.until(() => c.errors.length > 0, 2_000);
    expect(c.errors[0]!.code).toBe('UNAUTHORIZED');
  });
});
