import { sql } from 'drizzle-orm';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { requestExport } from '../../server/exports/service.js';
import type { Actor } from '../../server/permissions.js';
import type { TestEnv } from '../support/env.js';
import { createOutageEnv, type OutageEnv } from '../support/outage.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, spawnWorker, waitUntil } from '../support/worker.js';

// Issue 13 items 3 and 10: escalations (and the repair of lost export jobs) must not depend on Redis.
// The worker processes run against a PRIVATE redis-server that this file stops and restarts; the
// machine's shared Redis is never touched.
let outage: OutageEnv;
let env: TestEnv;
let t: Tenants;
const SWEEP_MS = 500;
const stopRedis = () => outage.stopRedis();
const startRedis = () => outage.startRedis();
const exportDir = `${process.cwd()}/test-artifacts/exports-outage-${process.pid}`;

beforeAll(async () => {
  outage = await createOutageEnv({ SWEEP_INTERVAL_MS: String(SWEEP_MS), EXPORT_DIR: exportDir, EXPORT_REQUEUE_AFTER_SECONDS: '2' });
  env = outage.env;
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'critical', [2, 2]);
});

const operator = () => t.user('general', 'operator') as Actor;
const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: null, userAgent: 'test', sessionId: null });
const raise = (title: string) => {
  const op = operator();
  return createAlert(env.deps, op, auditOf(op), { title, priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: title.slice(-10) });
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function escalationsOf(ids: string[]) {
  const { rows } = await env.deps.db.execute<{ alert_id: string; to_level: number; late_ms: number }>(sql`
    SELECT e.alert_id, e.to_level,
           extract(epoch FROM e.escalated_at - (a.created_at + make_interval(secs => 2 * e.to_level)))::float * 1000 AS late_ms
    FROM alert_escalations e JOIN alerts a ON a.id = e.alert_id WHERE e.alert_id IN ${ids} ORDER BY e.alert_id, e.to_level`);
  const map = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (const r of rows) map.get(r.alert_id)!.push(r.to_level);
  return { map, late: rows.map((r) => r.late_ms) };
}

const exited = (child: ReturnType<typeof spawnWorker>) => new Promise((r) => child.once('exit', r));

describe('the sweeper with Redis down (issue 13 item 3)', () => {
  it('an unanswered critical escalates on time with Redis stopped', async () => {
    const worker = spawnWorker(env);
    const heartbeat = `${env.config.redis.keyPrefix}:worker:heartbeat`;
    await waitUntil(async () => !!(await env.deps.redis.get(heartbeat).catch(() => null)), 45_000, 'the worker heartbeat');
    await stopRedis();
    const started = Date.now();
    const alert = await raise('Outage critical');
    expect(Date.now() - started).toBeLessThan(2_000); // raising never waits on Redis
    // Level 1 at 2 s, level 2 at 4 s; the sweeper runs every 0.5 s. Generous margin for a busy machine.
    await waitUntil(async () => (await escalationsOf([alert.id])).map.get(alert.id)!.length === 2, 12_000, 'two escalations with Redis down');
    const { map, late } = await escalationsOf([alert.id]);
    expect(map.get(alert.id)).toEqual([1, 2]);
    console.log(`escalation lateness with Redis down: ${late.map((x) => Math.round(x)).join(', ')} ms`);
    for (const ms of late) expect(ms).toBeLessThan(SWEEP_MS + 2_500);
    worker.kill('SIGTERM');
    await exited(worker);
  }, 120_000);

  it('two workers (one started during the outage, one then killed): every escalation exactly once', async () => {
    const first = spawnWorker(env);
    const second = spawnWorker(env); // starts while Redis is down
    // A probe overdue alert shows the workers are up (start-up takes seconds on a busy machine).
    const probe = await raise('Two workers probe');
    await env.deps.db.execute(sql`UPDATE alerts SET next_escalation_at = now() - interval '1 second' WHERE id = ${probe.id}`);
    await waitUntil(async () => (await escalationsOf([probe.id])).map.get(probe.id)!.length >= 1, 45_000, 'a worker to sweep');
    await sleep(3_000);
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => raise(`Two workers ${i}`).then((a) => a.id)));
    await waitUntil(async () => [...(await escalationsOf(ids)).map.values()].every((l) => l.length >= 1), 30_000, 'level 1 everywhere');
    first.kill('SIGKILL'); // whichever held the sweep, the other takes over
    await exited(first);
    await waitUntil(async () => [...(await escalationsOf(ids)).map.values()].every((l) => l.length === 2), 30_000, 'level 2 everywhere');
    await sleep(1_500);
    for (const [id, levels] of (await escalationsOf(ids)).map) expect(levels, id).toEqual([1, 2]);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_events WHERE alert_id IN ${ids} AND type = 'escalated'`);
    expect(rows[0]!.n).toBe(20);
    second.kill('SIGTERM');
    await exited(second);
  }, 150_000);

  it('one worker sweeps at a time: while another session holds the sweep lock nothing is swept', async () => {
    const worker = spawnWorker(env);
    const holder = new pg.Client({ connectionString: env.databaseUrl });
    await holder.connect();
    try {
      const probe = await raise('Lock probe');
      await env.deps.db.execute(sql`UPDATE alerts SET next_escalation_at = now() - interval '1 second' WHERE id = ${probe.id}`);
      await waitUntil(async () => (await escalationsOf([probe.id])).map.get(probe.id)!.length >= 1, 45_000, 'the worker to sweep');
      await holder.query(`SELECT pg_advisory_lock(hashtextextended('clarion:sweeper', 0))`);
      const alert = await raise('Lock held');
      await env.deps.db.execute(sql`UPDATE alerts SET next_escalation_at = now() - interval '10 seconds' WHERE id = ${alert.id}`);
      await sleep(3_000); // six sweep intervals
      expect((await escalationsOf([alert.id])).map.get(alert.id)).toEqual([]);
      await holder.query(`SELECT pg_advisory_unlock(hashtextextended('clarion:sweeper', 0))`);
      await waitUntil(async () => (await escalationsOf([alert.id])).map.get(alert.id)!.length >= 1, 20_000, 'the sweep once the lock is free');
    } finally {
      await holder.end();
      worker.kill('SIGTERM');
      await exited(worker);
    }
  }, 120_000);
});

describe('exports requested while Redis is down (issue 13 item 10)', () => {
  it('a queued export whose job was never added completes once Redis is back', async () => {
    const admin = t.user('general', 'admin') as Actor;
    const started = Date.now();
    const { id } = await requestExport(env.deps, admin, auditOf(admin), { format: 'ndjson' });
    expect(Date.now() - started).toBeLessThan(3_000);
    const status = async () => (await env.deps.db.execute<{ status: string; sha256: string | null; row_count: number }>(sql`SELECT status::text, sha256, row_count FROM audit_exports WHERE id = ${id}`)).rows[0]!;
    expect((await status()).status).toBe('queued');
    const worker = spawnWorker(env);
    await sleep(5_000);
    expect((await status()).status).toBe('queued');
    await startRedis(); // an empty Redis: the export job never existed
    await waitUntil(async () => (await status()).status === 'completed', 60_000, 'the export to complete');
    const done = await status();
    expect(done.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(done.row_count)).toBeGreaterThan(0);
    // Re-queueing is idempotent: later sweeps leave the completed export alone.
    await sleep(3_000);
    expect(await status()).toEqual(done);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE resource_id = ${id} AND action = 'audit.export_requested'`);
    expect(rows[0]!.n).toBe(1);
    worker.kill('SIGTERM');
    await exited(worker);
  }, 90_000);
});
