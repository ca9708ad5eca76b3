// npm run bench:queries [-- --runs 200 --budget 4 --only audit --no-drop --analyze]
// The hot queries on the large seed (`npm run seed -- --scale large` into clarion_bench): for each, the
// EXPLAIN (ANALYZE, BUFFERS) plan and p50/p95/p99 over N warm runs, then the same with its index dropped
// inside a transaction that is rolled back (BEGIN; DROP INDEX …; measure; ROLLBACK) — the index is
// never really dropped, but the table is locked while that part runs: use the benchmark database only.
// Writes reports/bench-queries.json and prints a table. Method and results: docs/query-performance.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { and, asc, desc, inArray, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { selectAlerts } from '../server/alerts/queries.js';
import { listAlerts } from '../server/alerts/service.js';
import { alertScope, scopeWhere } from '../server/alerts/visibility.js';
import { encodeCursor, getLogs, logsPageQuery } from '../server/audit/service.js';
import { alerts } from '../server/db/schema.js';
import * as schema from '../server/db/schema.js';
import type { Actor } from '../server/permissions.js';
import { listUsers, usersPageQueries } from '../server/users/service.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    budget: { type: 'string', default: '4' }, // seconds per measurement at most (slow no-index runs)
    only: { type: 'string' },
    'no-drop': { type: 'boolean', default: false },
    analyze: { type: 'boolean', default: false },
    out: { type: 'string', default: 'reports/bench-queries.json' },
  },
});
const RUNS = Number(args.runs);
const BUDGET_MS = Number(args.budget) * 1000;
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clarion_bench';
const dbName = new URL(url).pathname.slice(1);
if (!/bench/.test(dbName)) {
  console.error(`refusing to run against "${dbName}": this benchmark drops indexes (in rolled-back transactions); use a *bench* database`);
  process.exit(2);
}

const client = new pg.Client({ connectionString: url, application_name: 'clarion-bench-queries' });
await client.connect();
await client.query(`SET statement_timeout = '120s'`);
let captured: { text: string; values: unknown[] } | null = null;
const db = drizzle(client, { schema, logger: { logQuery: (text, values) => (captured = { text, values }) } });
// The app's view: service calls over a pool, so users.getAll's page and count run side by side.
const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'clarion-bench-queries' });
const appDb = drizzle(pool, { schema });
const dialect = new PgDialect();
const q = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (await client.query<T>(text, values)).rows;

// ---- the data the cases need --------------------------------------------------------------------
const [hospital] = await q<{ id: string }>(`SELECT id FROM hospitals WHERE slug = 'bench'`);
if (!hospital) throw new Error('no hospital "bench": run `npm run seed -- --scale large` against this database first');
const H = hospital.id;
const [dept] = await q<{ id: string }>(`SELECT department_id AS id FROM alerts WHERE hospital_id = $1 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`, [H]);
const [someUser] = await q<{ id: string; email: string }>(`SELECT id, email FROM users WHERE hospital_id = $1 ORDER BY id OFFSET 4242 LIMIT 1`, [H]);
const emails = (await q<{ email: string }>(`SELECT email FROM users WHERE hospital_id = $1 ORDER BY id OFFSET 1000 LIMIT 50`, [H])).map((r) => r.email);
const admin: Actor = { id: someUser?.id ?? '', role: 'admin', hospitalId: H, departmentId: null };
const nurse: Actor = { id: someUser?.id ?? '', role: 'nurse', hospitalId: H, departmentId: dept?.id ?? null };
// Cursors ~1,000 pages (of 50) deep: each run starts from one of ten neighbouring positions.
const deepCursors = (
  await q<{ ts: string; id: string }>(
    `SELECT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, id FROM audit_logs WHERE hospital_id = $1
     ORDER BY timestamp DESC NULLS LAST, id DESC NULLS LAST OFFSET 49999 LIMIT 500`,
    [H],
  )
)
  .filter((_, i) => i % 50 === 0)
  .map((r) => encodeCursor(r.ts, r.id));
const searches = ['fischer', 'priya', 'nakamura 1', 'user4242', 'kira d', 'moreau', 'ben diaz', 'elena'];
const month = { from: '2026-09-01T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z' };
const OPEN_BOARD = 250; // the seed leaves no alert open: the board cases open this many (rolled back)

// ---- the cases -------------------------------------------------------------------------------------
interface Explained {
  label: string;
  text: string;
  values: unknown[];
}
interface Case {
  name: string;
  /** Indexes dropped for the "without" measurement (those the plan uses, and any near-equivalent). */
  drop: string[];
  target?: { stat: 'p95' | 'p99'; ms: number };
  setup?: () => Promise<void>;
  explain: () => Promise<Explained[]>;
  run: (i: number) => Promise<unknown>;
  /** The service call as the app makes it (pool, outside any transaction): what the targets are checked on. */
  app?: (i: number) => Promise<unknown>;
}
const fromSql = (label: string, s: SQL): Explained => {
  const r = dialect.sqlToQuery(s);
  return { label, text: r.sql, values: r.params };
};
const capture = async (label: string, fn: () => Promise<unknown>): Promise<Explained> => {
  await fn();
  if (!captured) throw new Error(`nothing captured for ${label}`);
  return { label, ...captured };
};
/** The statement as the app would run it prepared: pg named statement, Parse once per connection. */
const named = (name: string, e: Explained) => () => client.query({ name: `bench_${name}`, text: e.text, values: e.values });
const openBoard = async () => {
  await q(
    `UPDATE alerts SET status = 'active', resolved_at = NULL, resolved_by = NULL, cancelled_at = NULL, cancelled_by = NULL
     WHERE id IN (SELECT id FROM alerts WHERE hospital_id = $1 ORDER BY created_at DESC LIMIT ${OPEN_BOARD})`,
    [H],
  );
  await q('ANALYZE alerts');
};
const boardWhere = (actor: Actor) => and(scopeWhere(alertScope(actor), alerts), inArray(alerts.status, ['active', 'acknowledged']));
const boardOrder = [desc(alerts.priority), asc(alerts.createdAt), asc(alerts.id)];
const boardCase = (name: string, actor: Actor, drop: string[]): Case => {
  let e: Explained | null = null;
  return {
    name,
    drop,
    setup: openBoard,
    explain: async () => {
      e = await capture(name, () => selectAlerts(db, boardWhere(actor), boardOrder));
      return [e];
    },
    run: () => named(name.replace(/\W+/g, '_'), e as Explained)(),
  };
};
const usersCase = (name: string, input: (i: number) => Parameters<typeof listUsers>[2], drop: string[], target?: Case['target']): Case => ({
  name,
  drop,
  target,
  explain: async () => {
    const qs = usersPageQueries(db, H, input(0));
    const page = qs.page.toSQL();
    const count = qs.count.toSQL();
    return [
      { label: 'page', text: page.sql, values: page.params },
      { label: 'count', text: count.sql, values: count.params },
    ];
  },
  run: (i) => listUsers(db, H, input(i)),
  app: (i) => listUsers(appDb, H, input(i)),
});
const auditCase = (name: string, input: (i: number) => Parameters<typeof getLogs>[2], drop: string[], target?: Case['target']): Case => ({
  name,
  drop,
  target,
  explain: async () => [fromSql('page', logsPageQuery(H, input(0)))],
  run: (i) => getLogs(db, H, input(i)),
  app: (i) => getLogs(appDb, H, input(i)),
});
const rawCase = (name: string, text: string, values: (i: number) => unknown[], drop: string[]): Case => ({
  name,
  drop,
  explain: async () => [{ label: 'query', text, values: values(0) }],
  run: (i) => client.query({ name: `bench_${name.replace(/\W+/g, '_')}`, text, values: values(i) }),
});

const cases: Case[] = [
  boardCase('board: active alerts, hospital', admin, ['alerts_open_board_idx', 'alerts_status_idx']),
  boardCase('board: active alerts, department', nurse, ['alerts_open_board_idx', 'alerts_status_idx', 'alerts_dedup_idx']),
  rawCase('board: last event id', 'SELECT max(id)::text AS id FROM alert_events WHERE hospital_id = $1', () => [H], ['alert_events_hospital_idx']),
  {
    name: 'alerts.list: history first page',
    drop: ['alerts_history_idx', 'alerts_created_at_idx'],
    explain: async () => [await capture('history', () => listAlerts({ db }, admin, { limit: 25 }))],
    run: () => listAlerts({ db }, admin, { limit: 25 }),
  },
  usersCase('users.getAll: first page', () => ({ page: 1, limit: 20 }), ['users_hospital_name_idx']),
  usersCase('users.getAll: search', (i) => ({ page: 1, limit: 20, search: searches[i % searches.length] }), ['users_search_trgm_idx'], { stat: 'p95', ms: 30 }),
  usersCase('users.getAll: page 2,000 (offset)', () => ({ page: 2000, limit: 20 }), ['users_hospital_name_idx']),
  auditCase('audit.getLogs: first page', () => ({ limit: 50 }), ['audit_hospital_page_idx'], { stat: 'p99', ms: 10 }),
  auditCase(
    'audit.getLogs: 1,000 pages deep (cursor)',
    (i) => ({ limit: 50, cursor: deepCursors[i % deepCursors.length] }),
    ['audit_hospital_page_idx'],
    { stat: 'p99', ms: 10 },
  ),
  auditCase('audit.getLogs: filtered by user', () => ({ limit: 50, userId: someUser?.id }), ['audit_user_timestamp_idx']),
  auditCase('audit.getLogs: filtered by action (1%)', () => ({ limit: 50, action: 'auth.lockout' }), ['audit_hospital_page_idx', 'audit_action_idx']),
  rawCase(
    'compliance: activity by action (1 month)',
    `SELECT action, outcome::text AS outcome, count(*) AS n FROM audit_logs
     WHERE hospital_id = $1 AND timestamp >= $2::timestamptz AND timestamp < $3::timestamptz GROUP BY action, outcome ORDER BY action`,
    () => [H, month.from, month.to],
    ['audit_hospital_page_idx'],
  ),
  rawCase(
    'compliance: failed logins by user (1 month)',
    `SELECT a.user_id, u.name AS user_name, count(*) AS n
     FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id AND u.hospital_id = a.hospital_id
     WHERE a.hospital_id = $1 AND a.timestamp >= $2::timestamptz AND a.timestamp < $3::timestamptz AND a.action IN ('auth.login') AND a.outcome = 'failure'
     GROUP BY a.user_id, u.name ORDER BY n DESC, a.user_id LIMIT 100`,
    () => [H, month.from, month.to],
    ['audit_hospital_page_idx'],
  ),
  rawCase(
    'login: user by email',
    `SELECT u.id, u.hospital_id, u.password_hash, u.is_active, h.settings, d.name
     FROM users u JOIN hospitals h ON h.id = u.hospital_id LEFT JOIN departments d ON d.id = u.department_id
     WHERE u.email = $1 LIMIT 1`,
    (i) => [emails[i % emails.length]],
    ['users_email_key'],
  ),
];

// ---- measurement -------------------------------------------------------------------------------------
interface Timing {
  runs: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const r2 = (n: number) => Math.round(n * 100) / 100;

async function time(run: (i: number) => Promise<unknown>, maxRuns: number, warm: number, minRuns: number): Promise<Timing> {
  for (let i = 0; i < warm; i++) await run(i);
  const ms: number[] = [];
  const start = performance.now();
  for (let i = 0; i < maxRuns && (i < minRuns || performance.now() - start < BUDGET_MS); i++) {
    const t0 = performance.now();
    await run(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { runs: ms.length, p50: r2(pct(ms, 50)), p95: r2(pct(ms, 95)), p99: r2(pct(ms, 99)), mean: r2(ms.reduce((a, b) => a + b, 0) / ms.length) };
}

async function explain(c: Case) {
  const out = [];
  for (const e of await c.explain()) {
    const plan = (await q<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${e.text}`, e.values)).map((r) => r['QUERY PLAN']);
    const indexes = [...new Set(plan.flatMap((l) => [...l.matchAll(/(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)/g)].map((m) => m[1] as string)))];
    const exec = plan.find((l) => l.startsWith('Execution Time'));
    out.push({ label: e.label, sql: e.text.replace(/\s+/g, ' ').trim(), indexes, executionTime: exec, plan });
  }
  return out;
}

if (args.analyze) {
  console.log('ANALYZE …');
  await q('ANALYZE');
}
const load = () => os.loadavg().map((n) => Math.round(n * 100) / 100);
const loadBefore = load();
const results = [];
for (const c of cases) {
  if (args.only && !c.name.includes(args.only)) continue;
  process.stdout.write(`${c.name} …`);
  await q('BEGIN');
  try {
    await c.setup?.();
    const withPlan = await explain(c);
    const withIdx = await time(c.run, RUNS, 5, 20);
    let without: { plan: Awaited<ReturnType<typeof explain>>; timing: Timing } | null = null;
    if (!args['no-drop'] && c.drop.length) {
      await q('SAVEPOINT no_index');
      for (const ix of c.drop) await q(`DROP INDEX ${ix}`);
      const plan = await explain(c);
      without = { plan, timing: await time(c.run, RUNS, 1, 3) };
      await q('ROLLBACK TO SAVEPOINT no_index');
    }
    await q('ROLLBACK');
    const app = c.app ? await time(c.app, RUNS * 2, 5, 20) : null;
    const improvement = without ? Math.round((1 - withIdx.p50 / without.timing.p50) * 1000) / 10 : null;
    const checked = app ?? withIdx;
    const target = c.target ? { ...c.target, on: app ? 'app' : 'with', measured: checked[c.target.stat], met: checked[c.target.stat] <= c.target.ms } : null;
    results.push({ name: c.name, dropped: c.drop, with: { timing: withIdx, plan: withPlan }, app, without, improvementPercent: improvement, target });
    console.log(` p50 ${withIdx.p50} ms${without ? ` (without index ${without.timing.p50} ms, ${improvement}% faster)` : ''}${app ? `; as the app (pool) p50 ${app.p50} p95 ${app.p95} p99 ${app.p99} ms` : ''}`);
  } catch (err) {
    await q('ROLLBACK');
    throw err;
  }
}
const loadAfter = load();

// ---- report -------------------------------------------------------------------------------------------
const [counts] = await q<{ users: string; audit: string; alerts: string }>(
  `SELECT (SELECT count(*) FROM users) AS users, (SELECT reltuples::bigint FROM pg_class WHERE relname = 'audit_logs') AS audit, (SELECT count(*) FROM alerts) AS alerts`,
);
const [{ version } = { version: '' }] = await q<{ version: string }>('SHOW server_version');
const report = {
  generatedAt: new Date().toISOString(),
  database: dbName,
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), loadBefore, loadAfter, postgres: version },
  data: { users: Number(counts?.users), auditRowsEstimate: Number(counts?.audit), alerts: Number(counts?.alerts), openAlertsForBoard: OPEN_BOARD },
  method: { runs: RUNS, budgetSeconds: BUDGET_MS / 1000, warmRuns: 5, note: 'warm cache; without-index timings within BEGIN; DROP INDEX; ROLLBACK' },
  results,
};
mkdirSync('reports', { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);

const pad = (s: string, n: number) => s.padEnd(n).slice(0, n);
const lpad = (s: string, n: number) => s.padStart(n);
const fmt = (t?: Timing) => (t ? `${lpad(String(t.p50), 8)}${lpad(String(t.p95), 9)}${lpad(String(t.p99), 9)}` : lpad('—', 26));
console.log(`\n${pad('query', 44)}${pad('index used', 28)}${lpad('p50', 8)}${lpad('p95', 9)}${lpad('p99', 9)}   |${lpad('no-idx p50', 11)}${lpad('p95', 9)}${lpad('p99', 9)}${lpad('gain', 8)}  target`);
for (const r of results) {
  const idx = r.with.plan.flatMap((p) => p.indexes).join(',');
  const target = r.target ? `${r.target.stat} ≤ ${r.target.ms} ms: ${r.target.met ? 'met' : 'MISSED'} (${r.target.measured})` : '';
  const gain = r.improvementPercent === null ? '—' : `${r.improvementPercent}%`;
  console.log(`${pad(r.name, 44)}${pad(idx, 28)}${fmt(r.with.timing)}   |${lpad(r.without ? String(r.without.timing.p50) : '—', 11)}${r.without ? `${lpad(String(r.without.timing.p95), 9)}${lpad(String(r.without.timing.p99), 9)}` : lpad('', 18)}${lpad(gain, 8)}  ${target}`);
}
console.log(`\nms; ${RUNS} warm runs per query (fewer without the index: ${BUDGET_MS / 1000} s budget, at least 3); load ${loadBefore.join(' ')} → ${loadAfter.join(' ')}`);
for (const r of results.filter((x) => x.app)) {
  console.log(`as the app (pool of 4, service call): ${pad(r.name, 44)} p50 ${r.app?.p50}  p95 ${r.app?.p95}  p99 ${r.app?.p99}  (${r.app?.runs} runs)`);
}
console.log(`report: ${args.out}`);
await client.end();
await pool.end();
