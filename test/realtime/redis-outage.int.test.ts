import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../server/alerts/schemas.js';
import { closeDeps, createDeps } from '../../server/deps.js';
import { EventHub } from '../../server/realtime/hub.js';
import type { TestEnv } from '../support/env.js';
import { createOutageEnv, type OutageEnv } from '../support/outage.js';
import { type Collector, clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 13 item 2: a board that subscribes while Redis is down must still get its replay and every
// new event, on the Postgres tick, on a server that was running before the outage and on one started
// during it. A PRIVATE redis-server is stopped here; the machine's shared Redis is never touched.
let outage: OutageEnv;
let env: TestEnv;
let t: Tenants;
let before: TestServer;
const TICK_MS = 300;
const collectors: Collector[] = [];

beforeAll(async () => {
  outage = await createOutageEnv();
  env = outage.env;
  afterAll(() => {
    for (const c of collectors) c.stop();
  });
  t = await seedTenants(env);
  before = await startTestServer(env, { separate: true, fanoutTickMs: TICK_MS });
});

const watch = (client: ReturnType<typeof clientFor>, input?: { lastEventId?: string }) => {
  const c = collectEvents(client, input);
  collectors.push(c);
  return c;
};

/** Resolves to how long `p` took, or rejects after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  clearTimeout(timer);
  return Date.now() - started;
}

describe('subscribing while Redis is down', () => {
  it('boards on a running server and on a server started during the outage get replay and live events on the tick', async () => {
    const operator = clientFor(before, await t.token('general', 'operator'));
    const raise = (title: string) =>
      operator.alerts.create.mutate({ title, priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.ICU });
    const beforeOutage = await raise('Raised before the outage');
    const { lastEventId: startId } = await operator.alerts.getActive.query();
    const replayFrom = String(Number(startId) - 1);

    await outage.stopRedis();
    const during = await startTestServer(env, { separate: true, fanoutTickMs: TICK_MS });

    // Four boards subscribe only now: with and without a lastEventId, on each server.
    const boards = {
      runningLive: watch(clientFor(before, await t.token('general', 'nurse.icu'))),
      runningReplay: watch(clientFor(before, await t.token('general', 'head')), { lastEventId: replayFrom }),
      freshLive: watch(clientFor(during, await t.token('general', 'nurse.icu'))),
      freshReplay: watch(clientFor(during, await t.token('general', 'head')), { lastEventId: replayFrom }),
    };
    for (const [name, board] of Object.entries(boards)) await within(board.started, 3_000, `${name} started`);
    // The replayed event arrives without any Redis: the replay is read from Postgres.
    for (const board of [boards.runningReplay, boards.freshReplay]) await board.until((e) => e.some((x) => x.alert.id === beforeOutage.id), 3_000);
    // Let the live boards' registration finish (a Postgres read) before raising.
    await new Promise((r) => setTimeout(r, 500));

    const raised = [await raise('Raised during the outage 1'), await raise('Raised during the outage 2')];
    for (const [name, board] of Object.entries(boards)) {
      await board.until((e) => raised.every((a) => e.some((x) => x.alert.id === a.id && x.type === 'created')), 5_000).catch((err) => {
        throw new Error(`${name}: ${err.message}`);
      });
    }
    for (const board of Object.values(boards)) expect(board.errors).toEqual([]);
    // Nothing twice: the replayed event is not repeated live.
    expect(boards.freshReplay.events.filter((e) => e.alert.id === beforeOutage.id)).toHaveLength(1);

    // Redis returns: the Redis channel subscriptions taken in the background complete and nothing is lost or doubled.
    await outage.startRedis();
    const after = await raise('Raised after Redis returned');
    for (const board of Object.values(boards)) await board.until((e) => e.some((x) => x.alert.id === after.id), 5_000);
    for (const board of Object.values(boards)) {
      const ids = board.events.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('a fan-out hub created while Redis is down registers subscribers from Postgres alone', async () => {
    await outage.stopRedis();
    const deps = createDeps(env.config, env.deps.log);
    const hub = new EventHub(deps, TICK_MS);
    try {
      const startMs = await within(hub.start(), 2_000, 'hub.start');
      const delivered: string[] = [];
      // Registered from Postgres alone, the hub delivers on its tick: an alert raised now reaches it.
      const sub = {
        userId: t.user('general', 'head').id,
        sessionId: 'test-session',
        scope: { hospitalId: t.hospital.general.id, departmentId: null },
        deliver: (e: AlertEvent) => {
          delivered.push(e.alert.id);
        },
        end: () => undefined,
      };
      const registerMs = await within(hub.register(sub), 2_000, 'hub.register');
      expect(startMs + registerMs).toBeLessThan(2_000);
      const operator = clientFor(before, await t.token('general', 'operator'));
      const alert = await operator.alerts.create.mutate({ title: 'Raised for a hub born in an outage', priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ER });
      const deadline = Date.now() + 5_000;
      while (!delivered.includes(alert.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(delivered).toContain(alert.id);
      hub.unregister(sub);
    } finally {
      await hub.stop();
      await outage.startRedis();
      await closeDeps(deps);
    }
  });
});
