import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFastFailRedis } from '../../server/redis.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { killWorkers, setPolicy, spawnWorker, waitUntil } from '../support/worker.js';

// This file owns Redis database 9, so it may FLUSHDB it as the outage test requires.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let operator: ReturnType<typeof clientFor>;

beforeAll(async () => {
  env = await createTestEnv({ REDIS_URL: 'redis://127.0.0.1:6379/9', SWEEP_INTERVAL_MS: '500' });
  server = await startTestServer(env, { fanoutTickMs: 500 });
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'critical', [2, 1]);
  await setPolicy(env, t.hospital.general.id, 'high', [1]);
  operator = clientFor(server, await t.token('general', 'operator'));
});

const raise = (priority: 'critical' | 'high', title: string) =>
  operator.alerts.create.mutate({ title, priority, alertType: 'medical', departmentId: t.hospital.general.departments.ICU });

async function escalationsOf(ids: string[]): Promise<Map<string, number[]>> {
  const { rows } = await env.deps.db.execute<{ alert_id: string; to_level: number }>(
    sql`SELECT alert_id, to_level FROM alert_escalations WHERE alert_id IN ${ids} ORDER BY alert_id, to_level`,
  );
  const map = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (const r of rows) map.get(r.alert_id)!.push(r.to_level);
  return map;
}

const exited = (child: ReturnType<typeof spawnWorker>) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('worker resilience', () => {
  it('a worker killed with SIGKILL and restarted performs every due escalation exactly once', async () => {
    const first = spawnWorker(env);
    await waitUntil(async () => !!(await env.deps.redis.get(`${env.config.redis.keyPrefix}:worker:heartbeat`)), 15_000, 'the worker heartbeat');
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => raise('critical', `Kill ${i}`).then((a) => a.id)));
    await new Promise((r) => setTimeout(r, 2_300)); // past level 1 deadlines: the worker is mid-escalation
    first.kill('SIGKILL');
    await exited(first);
    await new Promise((r) => setTimeout(r, 1_000)); // level 2 deadlines pass with no worker
    spawnWorker(env);
    await waitUntil(async () => [...(await escalationsOf(ids)).values()].every((levels) => levels.length === 2), 20_000, 'every alert at level 2');
    await new Promise((r) => setTimeout(r, 1_500));
    for (const [id, levels] of await escalationsOf(ids)) expect(levels, id).toEqual([1, 2]);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_events WHERE alert_id IN ${ids} AND type = 'escalated'`);
    expect(rows[0]!.n).toBe(40);
  });

  it('after FLUSHDB of the worker\'s Redis database the sweeper still escalates', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => raise('high', `Flushed ${i}`).then((a) => a.id)));
    const admin = createFastFailRedis(env.config.redis, 'test-flush');
    await new Promise((r) => admin.once('ready', r));
    expect(admin.options.db).toBe(9);
    await admin.flushdb(); // every delayed timer is gone, and the sweeper's schedule with them
    admin.disconnect();
    // A worker (re)starting re-creates its schedules; the sweeper then finds the overdue alerts.
    spawnWorker(env);
    await waitUntil(async () => [...(await escalationsOf(ids)).values()].every((l) => l.length === 1), 15_000, 'the sweeper to escalate');
    for (const [id, levels] of await escalationsOf(ids)) expect(levels, id).toEqual([1]);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    // Only this worker may write the heartbeat we wait for.
    killWorkers();
    await new Promise((r) => setTimeout(r, 200));
    const key = `${env.config.redis.keyPrefix}:worker:heartbeat`;
    await env.deps.redis.del(key);
    const child = spawnWorker(env);
    await waitUntil(async () => !!(await env.deps.redis.get(key)), 20_000, 'the worker to start');
    const started = Date.now();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
