// npm run bench:create -- [--alerts 5000] [--concurrency 50] [--rate 0]
// Raises through the service (createAlert with the real deps: pool, write gate, timers, Redis wake-up)
// in one hospital of a fresh seeded database. Closed loop by default (`concurrency` callers, each
// raising again as soon as answered: throughput); with --rate N, open loop (N raises started per
// second whatever the answers: latency at that load). Prints alerts/s and the p50/p99 latency of one
// create; writes reports/bench-create.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { and, eq, sql } from 'drizzle-orm';
import { createAlert } from '../server/alerts/service.js';
import { loadConfig } from '../server/config.js';
import { withDatabase } from '../server/db/admin.js';
import { departments, hospitals, users } from '../server/db/schema.js';
import { closeDeps, createDeps } from '../server/deps.js';
import { createLogger } from '../server/logger.js';
import { seedDevelopment } from '../server/seed/dev.js';
import { freshDatabase } from '../load-tests/harness/setup.js';

const { values } = parseArgs({ options: { alerts: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '50' }, rate: { type: 'string', default: '0' } } });
const ALERTS = Number(values.alerts);
const CONCURRENCY = Number(values.concurrency);
const RATE = Number(values.rate);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function main() {
  const base = loadConfig({ ...process.env, CLARION_ENV: 'development' });
  const url = withDatabase(base.database.url, 'clarion_bench_create');
  await freshDatabase(url);
  const config = loadConfig({ ...process.env, CLARION_ENV: 'development', DATABASE_URL: url, REDIS_KEY_PREFIX: `bench_create_${Date.now()}`, LOG_LEVEL: 'warn', DB_POOL_MAX: '20' });
  const deps = createDeps(config, createLogger(config));
  try {
    await seedDevelopment(deps);
    // Statistics as autovacuum keeps them in a real database (the test cluster runs with it off): without
    // them the planner may scan every open alert of the hospital for the duplicate lookup.
    await deps.db.execute(sql`ANALYZE`);
    const [h] = await deps.db.select().from(hospitals).where(eq(hospitals.slug, 'general'));
    const hospitalId = (h as { id: string }).id;
    const depts = await deps.db.select({ id: departments.id }).from(departments).where(and(eq(departments.hospitalId, hospitalId), eq(departments.isActive, true)));
    const [u] = await deps.db.select().from(users).where(eq(users.email, 'operator@general.test'));
    const operator = { id: u!.id, role: u!.role, hospitalId, departmentId: u!.departmentId };
    const audit = { userId: operator.id, hospitalId, ip: '127.0.0.1', userAgent: 'bench-create', sessionId: null };

    const latencies: number[] = [];
    const createOne = async (i: number) => {
      const t0 = performance.now();
      await createAlert(deps, operator, audit, {
        title: `Bench ${i}`,
        priority: i % 10 === 0 ? 'critical' : 'high',
        alertType: 'medical',
        departmentId: (depts[i % depts.length] as { id: string }).id,
        roomNumber: String(i),
      });
      latencies.push(performance.now() - t0);
    };
    let next = 0;
    const started = performance.now();
    if (RATE > 0) {
      const running: Promise<void>[] = [];
      for (let i = 0; i < ALERTS; i++) {
        await sleep(started + (i * 1000) / RATE - performance.now());
        running.push(createOne(i));
      }
      await Promise.all(running);
    } else {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < ALERTS) await createOne(next++);
        }),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const result = {
      alerts: ALERTS,
      mode: RATE > 0 ? `open loop at ${RATE}/s` : `${CONCURRENCY} concurrent callers`,
      seconds: Number(seconds.toFixed(2)),
      alertsPerSecond: Math.round(ALERTS / seconds),
      p50Ms: Number(pct(latencies, 50).toFixed(1)),
      p99Ms: Number(pct(latencies, 99).toFixed(1)),
    };
    console.log(`creates: ${result.alertsPerSecond} alerts/s (${ALERTS} in ${result.seconds} s, ${result.mode}); latency p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`);
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/bench-create.json', `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await closeDeps(deps);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
