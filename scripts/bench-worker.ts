// npm run bench:worker -- [--races 10000] [--concurrency 200] [--export-rows 1000000]
// Escalation timers under races, and the audit export, against a fresh database with the real worker.
// Prints escalation lateness p50/p99, any escalation after a response (must be 0), export rows/s and
// the process's peak RSS; writes reports/bench-worker.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import { createAlert } from '../server/alerts/service.js';
import { acknowledgeAlert, cancelAlert, declineAlert, resolveAlert } from '../server/alerts/transitions.js';
import { loadConfig } from '../server/config.js';
import { withDatabase } from '../server/db/admin.js';
import { seedDevelopment } from '../server/seed/dev.js';
import { auditExports, departments, hospitals, users } from '../server/db/schema.js';
import { closeDeps, createDeps } from '../server/deps.js';
import { createLogger } from '../server/logger.js';
import { exportProcessor } from '../worker/processors/export.js';
import { startWorkers } from '../worker/workers.js';
import { freshDatabase } from '../load-tests/harness/setup.js';

const { values } = parseArgs({
  options: {
    races: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '200' },
    'export-rows': { type: 'string', default: '1000000' },
  },
});
const RACES = Number(values.races);
const CONCURRENCY = Number(values.concurrency);
const EXPORT_ROWS = Number(values['export-rows']);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function main() {
  const base = loadConfig({ ...process.env, CLARION_ENV: 'development' });
  const url = withDatabase(base.database.url, 'clarion_bench_worker');
  await freshDatabase(url);
  const config = loadConfig({ ...process.env, CLARION_ENV: 'development', DATABASE_URL: url, REDIS_KEY_PREFIX: `bench_worker_${Date.now()}`, LOG_LEVEL: 'warn', DB_POOL_MAX: '20', SWEEP_INTERVAL_MS: '1000' });
  const log = createLogger(config);
  const deps = createDeps(config, log);
  await seedDevelopment(deps);
  const [h] = await deps.db.select().from(hospitals).where(eq(hospitals.slug, 'general'));
  const hospitalId = h!.id;
  // Level 0 pages the ICU charge nurse (the seed's assignment), level 1 the head doctors: every race
  // is also a race of pages against the response and the escalation (people issue).
  const chain = JSON.stringify({ levelTimeoutsSeconds: [2], targets: [[{ kind: 'charge' }], [{ kind: 'role', role: 'head_doctor' }]] });
  await deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(jsonb_set(settings, '{escalation,high}', ${chain}::jsonb), '{dedupWindowSeconds}', '0') WHERE id = ${hospitalId}`);
  const [icu] = await deps.db.select().from(departments).where(eq(departments.code, 'ICU'));
  const who = async (email: string) => {
    const [u] = await deps.db.select().from(users).where(eq(users.email, email));
    return { id: u!.id, role: u!.role, hospitalId, departmentId: u!.departmentId };
  };
  const operator = await who('operator@general.test');
  const nurse = await who('nurse.icu@general.test');
  const audit = (u: { id: string }) => ({ userId: u.id, hospitalId, ip: null, userAgent: 'bench', sessionId: null });
  const workers = await startWorkers(deps);

  // Races: each alert is answered within ±400 ms of its own 2 s deadline.
  let done = 0;
  let next = 0;
  const started = Date.now();
  const runOne = async (i: number) => {
    const a = await createAlert(deps, operator, audit(operator), { title: `Race ${i}`, priority: 'high', alertType: 'medical', departmentId: icu!.id, roomNumber: String(i) });
    await sleep(Date.parse(a.nextEscalationAt!) + Math.floor(Math.random() * 800) - 400 - Date.now());
    if (i % 4 === 3) {
      // A decline escalates at once: it races the timer for the same level, and pages level 1.
      await declineAlert(deps, nurse, audit(nurse), a.id, 'With another patient').catch(() => undefined);
    } else {
      const act = i % 4 === 0 ? acknowledgeAlert : i % 4 === 1 ? resolveAlert : cancelAlert;
      await act(deps, i % 4 === 2 ? operator : nurse, audit(i % 4 === 2 ? operator : nurse), a.id).catch(() => undefined);
    }
    done++;
    if (done % 500 === 0) process.stdout.write(`\r  races ${done}/${RACES}`);
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RACES) await runOne(next++);
    }),
  );
  await sleep(4_000); // let any last timers and the sweeper run
  const raceSeconds = (Date.now() - started) / 1000;
  const { rows: after } = await deps.db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM alert_events esc
    WHERE esc.type = 'escalated' AND EXISTS (
      SELECT 1 FROM alert_events r WHERE r.alert_id = esc.alert_id AND r.type IN ('acknowledged', 'resolved', 'cancelled') AND r.id < esc.id)`);
  const { rows: twice } = await deps.db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM (SELECT alert_id FROM alert_escalations GROUP BY alert_id, to_level HAVING count(*) > 1) d`);
  const { rows: late } = await deps.db.execute<{ ms: number }>(sql`
    SELECT extract(epoch FROM e.escalated_at - (a.created_at + interval '2 seconds'))::float * 1000 AS ms
    FROM alert_escalations e JOIN alerts a ON a.id = e.alert_id WHERE e.reason = 'timeout' AND a.title LIKE 'Race %'`);
  // Only the races' own alerts: the demo seed's alerts escalate on their own (60 s) policies.
  const lateness = late.map((r) => r.ms);
  const pages = await pageFigures(deps);
  console.log(`\nraces: ${RACES} in ${raceSeconds.toFixed(0)} s; escalated first ${lateness.length}, responded first ${RACES - lateness.length}`);
  console.log(`  escalations after a response: ${after[0]!.n} (must be 0); escalated twice at a level: ${twice[0]!.n} (must be 0)`);
  console.log(`  lateness vs deadline: p50 ${pct(lateness, 50).toFixed(0)} ms, p99 ${pct(lateness, 99).toFixed(0)} ms, max ${Math.max(...lateness).toFixed(0)} ms`);
  console.log(`pages: ${pages.levelsPaged} levels paged (${pages.pages} pages); after a response ${pages.afterResponse} (must be 0); a level paged twice ${pages.twice} (must be 0); a level reached, never paged nor answered ${pages.missed} (must be 0)`);
  console.log(`  level reached → paged: p50 ${pct(pages.latencyMs, 50).toFixed(0)} ms, p99 ${pct(pages.latencyMs, 99).toFixed(0)} ms, max ${Math.max(...pages.latencyMs).toFixed(0)} ms`);

  // Export: EXPORT_ROWS audit rows (chain fields bulk-filled with the trigger bypassed: bench set-up only).
  await deps.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL session_replication_role = replica`);
    await tx.execute(sql`
      INSERT INTO audit_logs (chain_id, seq, hospital_id, action, resource, outcome, metadata, prev_hash, hash, timestamp, retention_until)
      SELECT ${hospitalId}, base.m + g, ${hospitalId}, 'bench.export', 'bench', 'success', jsonb_build_object('n', g), '', md5(g::text), now() - interval '1 hour', now() + interval '6 years'
      FROM generate_series(1, ${EXPORT_ROWS}) g, (SELECT coalesce(max(seq), 0) AS m FROM audit_logs WHERE chain_id = ${hospitalId}) base`);
  });
  await workers.close();
  const [job] = await deps.db.insert(auditExports).values({ hospitalId, requestedBy: operator.id, format: 'csv', filters: {} }).returning();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const t0 = Date.now();
  const result = (await exportProcessor.run(deps, { exportId: job!.id }, log)) as { rows: number };
  const exportSeconds = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const rowsPerSecond = Math.round(result.rows / exportSeconds);
  console.log(`export: ${result.rows} rows in ${exportSeconds.toFixed(1)} s = ${rowsPerSecond} rows/s; peak RSS ${Math.round(peak / 1e6)} MB`);

  mkdirSync('reports', { recursive: true });
  const report = {
    machine: { cpus: 2, load: (await import('node:os')).loadavg() },
    races: { count: RACES, seconds: raceSeconds, escalatedFirst: lateness.length, escalationsAfterResponse: after[0]!.n, escalatedTwice: twice[0]!.n },
    latenessMs: { p50: pct(lateness, 50), p99: pct(lateness, 99), max: Math.max(...lateness) },
    pages: { ...pages, latencyMs: { p50: pct(pages.latencyMs, 50), p99: pct(pages.latencyMs, 99), max: Math.max(...pages.latencyMs) } },
    export: { rows: result.rows, seconds: exportSeconds, rowsPerSecond, peakRssMb: Math.round(peak / 1e6) },
  };
  writeFileSync('reports/bench-worker.json', JSON.stringify(report, null, 2));
  await closeDeps(deps);
  const pagesOk = pages.afterResponse === 0 && pages.twice === 0 && pages.missed === 0;
  process.exit(after[0]!.n === 0 && twice[0]!.n === 0 && pagesOk ? 0 : 1);
}

/** Exactly-once for pages over the races' alerts: never after a response, never twice per level, never missed. */
async function pageFigures(deps: ReturnType<typeof createDeps>) {
  const race = sql`(SELECT id FROM alerts WHERE title LIKE 'Race %')`;
  const one = async (q: ReturnType<typeof sql>) => (await deps.db.execute<{ n: number }>(q)).rows[0]?.n ?? 0;
  const response = `('acknowledged', 'resolved', 'cancelled')`;
  const afterResponse = await one(sql`
    SELECT count(*)::int AS n FROM alert_events p WHERE p.alert_id IN ${race} AND p.type IN ('paged', 'coverage_gap') AND EXISTS (
      SELECT 1 FROM alert_events r WHERE r.alert_id = p.alert_id AND r.type IN ${sql.raw(response)} AND r.id < p.id)`);
  const twice = await one(sql`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM alert_events WHERE alert_id IN ${race} AND type IN ('paged', 'coverage_gap') GROUP BY alert_id, detail->>'level' HAVING count(*) > 1) d`);
  // Each level an alert reached (created = 0, each escalation's to_level) has its page, unless a response came first.
  const missed = await one(sql`
    WITH reached AS (
      SELECT a.id AS alert_id, 0 AS level, a.created_at AS at FROM alerts a WHERE a.id IN ${race}
      UNION ALL SELECT e.alert_id, e.to_level, e.escalated_at FROM alert_escalations e WHERE e.alert_id IN ${race})
    SELECT count(*)::int AS n FROM reached x
    WHERE NOT EXISTS (SELECT 1 FROM alert_level_pagings m WHERE m.alert_id = x.alert_id AND m.level = x.level)
      AND NOT EXISTS (SELECT 1 FROM alert_events r WHERE r.alert_id = x.alert_id AND (r.type IN ${sql.raw(response)} OR (r.type = 'escalated' AND r.escalation_level > x.level)))`);
  const { rows } = await deps.db.execute<{ ms: number }>(sql`
    SELECT extract(epoch FROM p.occurred_at - coalesce(
      (SELECT max(e.escalated_at) FROM alert_escalations e WHERE e.alert_id = p.alert_id AND e.to_level = (p.detail->>'level')::int),
      (SELECT a.created_at FROM alerts a WHERE a.id = p.alert_id)))::float * 1000 AS ms
    FROM alert_events p WHERE p.alert_id IN ${race} AND p.type = 'paged'`);
  const levelsPaged = await one(sql`SELECT count(*)::int AS n FROM alert_level_pagings WHERE alert_id IN ${race}`);
  const pages = await one(sql`SELECT count(*)::int AS n FROM alert_pages WHERE alert_id IN ${race}`);
  return { levelsPaged, pages, afterResponse, twice, missed, latencyMs: rows.map((r) => r.ms) };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
