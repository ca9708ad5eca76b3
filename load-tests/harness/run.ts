/**
 * The load harness: a fresh migrated database, N Clarion instances (+ worker), the same subscribers
 * and the same raise schedule against Clarion and the baselines, one JSON report and one SVG plot.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { dropDatabase, withDatabase } from '../../server/db/admin.js';
import { closeAgent, postRaw, trpc } from './api.js';
import { memoryPlotPath, renderMemoryPlot } from './memory.js';
import { renderPlot } from './plot.js';
import { ensureServerBuild } from './build.js';
import { type Child, freePort, type ProcStats, ProcSampler, ROOT, spawnClarion, spawnTs, waitHttp } from './processes.js';
import type { SubSpec, Target } from './protocol.js';
import { freshDatabase, seedFixture } from './setup.js';
import { runTarget, type TargetReport } from './target.js';
import { ApiStats, type ProcedureReport, RecentAlerts, startVirtualUsers } from './workload.js';

export interface HarnessOptions {
  subscribers: number;
  instances: number;
  rate: number;
  duration: number;
  departments: number;
  headShare: number;
  burstRounds: number;
  flood: number;
  baselines: ('ws' | 'socketio')[];
  worker: boolean;
  apiUsers: number;
  thinkMs: number;
  ackRatio: number;
  clientProcs: number;
  /** Base Postgres URL (any database); the harness uses `database` on that server. */
  postgresUrl: string;
  database: string;
  keepDatabase: boolean;
  redisUrl: string;
  poolMax?: number;
  cpuProf: boolean;
  /** Run server and worker from another checkout (A/B-testing a server change with the same harness). */
  serverRoot?: string;
  /** --tsx: run server and worker from the TypeScript sources (tsx loader) instead of the compiled dist/. */
  fromSource?: boolean;
  out: string;
  plot: string;
  quiet: boolean;
  log?: (line: string) => void;
  onProgress?: (p: { target: string; phase: string; raised: number; deliveries: number; errors: number; procs: { name: string; rssMb: number; cpuPct: number }[] }) => void;
}

export const defaults: HarnessOptions = {
  subscribers: 2000,
  instances: 2,
  rate: 100,
  duration: 60,
  departments: 40,
  headShare: 0.01,
  burstRounds: 5,
  flood: 1000,
  baselines: ['ws', 'socketio'],
  worker: true,
  apiUsers: 100,
  thinkMs: 1000,
  ackRatio: 0.3,
  clientProcs: 2,
  postgresUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  database: 'clarion_load',
  keepDatabase: true,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  cpuProf: false,
  out: 'reports/load.json',
  plot: 'reports/load-latency.svg',
  quiet: false,
};

export interface HarnessReport {
  meta: { startedAt: string; finishedAt: string; machine: { cpus: number; model: string; memoryGb: number; loadavgBefore: number[]; loadavgAfter: number[]; node: string }; options: Omit<HarnessOptions, 'log' | 'onProgress'> };
  targets: TargetReport[];
  api: { overall: ReturnType<ApiStats['overall']>; procedures: Record<string, ProcedureReport>; skipped: string[]; errors: number; errorSamples: string[] };
  processes: Record<string, ProcStats[]>;
  ratios: { vsWs?: { throughput: number; p99: number }; vsSocketio?: { throughput: number; p99: number } };
}

type Template = Record<string, unknown>;

/** The same wire message a Clarion subscriber receives (tRPC data frame around an alert event). */
function baselineMessage(template: Template, seq: number, title: string): string {
  const id = String(seq + 1);
  return JSON.stringify({ id: 1, result: { type: 'data', id, data: { id, type: 'created', alert: { ...template, title }, actorId: template.createdBy ?? null, occurredAt: new Date().toISOString() } } });
}

export async function runHarness(o: HarnessOptions): Promise<HarnessReport> {
  const log = o.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const loadavgBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const dbUrl = withDatabase(o.postgresUrl, o.database);
  const prefix = `clarion_load_${randomBytes(3).toString('hex')}`;
  const children: Child[] = [];
  const processes: HarnessReport['processes'] = {};
  const targets: TargetReport[] = [];
  const api = new ApiStats();
  let template: Template | undefined;

  try {
    log(`database ${o.database}: recreating and migrating`);
    // The servers' own migrations: with --server-root, that checkout's (its /readyz compares the count).
    await freshDatabase(dbUrl, o.serverRoot ? resolve(o.serverRoot, 'migrations') : undefined);
    const fx = await seedFixture(dbUrl, {
      subscribers: o.subscribers,
      departments: o.departments,
      headShare: o.headShare,
      operators: 5,
      admins: Math.max(1, Math.ceil(o.apiUsers / 4)),
      nursesPerDept: Math.max(1, Math.ceil(o.apiUsers / o.departments)),
      extraUsers: 2_000,
    });
    const subs: SubSpec[] = fx.subscribers.map((u) => ({ token: u.token, dept: u.dept }));
    log(`seeded ${fx.subscribers.length} subscribers over ${o.departments} departments (+ operators, admins, nurses)`);

    // Clarion: N instances and the worker, sharing the database and a Redis prefix of their own.
    const env = {
      CLARION_ENV: 'development',
      DATABASE_URL: dbUrl,
      REDIS_URL: o.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      ...(o.poolMax ? { DB_POOL_MAX: String(o.poolMax) } : {}),
    };
    const nodeArgs = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dirname(o.out), 'profiles')}`] : [];
    const mode = o.fromSource ? 'tsx' : ensureServerBuild(o.serverRoot ?? ROOT, log);
    const instances: Child[] = [];
    for (let i = 0; i < o.instances; i++) instances.push(spawnClarion(`server-${i + 1}`, 'server', mode, env, await freePort(), nodeArgs, o.serverRoot));
    children.push(...instances);
    if (o.worker) children.push(spawnClarion('worker', 'worker', mode, env, 0, [], o.serverRoot));
    await Promise.all(instances.map((c) => waitHttp(c, '/readyz')));
    const urls = instances.map((c) => c.url);
    log(`clarion: ${o.instances} instance(s) ready${o.worker ? ' + worker' : ''} (${mode === 'dist' ? 'compiled dist/' : 'sources via tsx'})`);

    const admin = fx.admins[0] as { token: string };
    const active = await trpc(urls[0] as string, 'query', 'alerts.getActive', undefined, admin.token);
    if (!active.ok) throw new Error(`alerts.getActive failed: ${active.code} ${active.message}`);
    const lastEventId = (active.data as { lastEventId: string }).lastEventId;
    const recent = new RecentAlerts(o.departments);

    const runOne = async (target: Target, targetUrls: string[], watched: Child[], raise: Parameters<typeof runTarget>[0]['raise'], withApi: boolean) => {
      const sampler = new ProcSampler();
      for (const c of watched) if (c.proc.pid) sampler.watch(c.name, c.proc.pid);
      sampler.start(Date.now());
      try {
        const report = await runTarget({
          target,
          urls: targetUrls,
          subs,
          departments: o.departments,
          lastEventId: target === 'clarion' ? lastEventId : undefined,
          rate: o.rate,
          durationS: o.duration,
          burstRounds: o.burstRounds,
          flood: o.flood,
          clientProcs: o.clientProcs,
          raise,
          onProgress: (p) => o.onProgress?.({ target, ...p, procs: sampler.latest() }),
          duringSteady: withApi && o.apiUsers > 0 ? () => startVirtualUsers(targetUrls, fx, recent, api, { users: o.apiUsers, thinkMs: o.thinkMs, ackRatio: o.ackRatio }) : undefined,
        });
        targets.push(report);
        log(`${target}: steady p99 ${report.steady.latency.p99} ms, lost ${report.counts.lost}, duplicates ${report.counts.duplicates}`);
      } finally {
        processes[target] = sampler.stop();
      }
    };

    let op = 0;
    await runOne(
      'clarion',
      urls,
      children,
      async (seq, dept, title) => {
        const operator = fx.operators[op++ % fx.operators.length] as { token: string };
        const input = { title, priority: 'medium', alertType: 'load_test', departmentId: (fx.departments[dept] as { id: string }).id, roomNumber: `R${seq}` };
        const r = await trpc(urls[seq % urls.length] as string, 'mutation', 'alerts.create', input, operator.token);
        api.record('alerts.create', r);
        if (r.ok) {
          template ??= r.data as Template;
          recent.add(dept, (r.data as { id: string }).id);
        }
        return r;
      },
      true,
    );
    await Promise.all(children.map((c) => c.stop()));
    children.length = 0;
    template ??= { id: 'x', title: '', departmentId: 'x', hospitalId: 'x' };

    for (const b of o.baselines) {
      const n = b === 'ws' ? 1 : o.instances;
      const procs: Child[] = [];
      for (let i = 0; i < n; i++) {
        procs.push(spawnTs(`${b}-${i + 1}`, `load-tests/harness/baselines/${b === 'ws' ? 'ws-server' : 'socketio-server'}.ts`, { REDIS_URL: o.redisUrl, SIO_KEY: `${prefix}-sio` }, await freePort()));
      }
      children.push(...procs);
      await Promise.all(procs.map((c) => waitHttp(c, '/healthz')));
      log(`baseline ${b}: ${n} instance(s) ready`);
      const bUrls = procs.map((c) => c.url);
      const tpl = template;
      await runOne(b, bUrls, procs, (seq, dept, title) => postRaw(`${bUrls[seq % bUrls.length]}/publish?dept=${dept}`, baselineMessage(tpl, seq, title)), false);
      await Promise.all(procs.map((c) => c.stop()));
      children.length = 0;
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    closeAgent();
    if (!o.keepDatabase) await dropDatabase(dbUrl).catch(() => undefined);
  }

  const clarion = targets.find((t) => t.target === 'clarion');
  const ratio = (b: TargetReport | undefined) =>
    clarion && b
      ? {
          throughput: Math.round((clarion.flood.throughputPerSec / Math.max(1, b.flood.throughputPerSec)) * 100) / 100,
          p99: Math.round(((clarion.steady.latency.p99 ?? 0) / Math.max(0.01, b.steady.latency.p99 ?? 0)) * 100) / 100,
        }
      : undefined;
  const report: HarnessReport = {
    meta: {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), loadavgBefore, loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100), node: process.version },
      options: (({ log: _l, onProgress: _p, ...rest }) => rest)(o),
    },
    targets,
    api: { overall: api.overall(), procedures: api.report(), skipped: [...api.skipped], errors: api.errorCount, errorSamples: api.errorSamples },
    processes,
    ratios: { vsWs: ratio(targets.find((t) => t.target === 'ws')), vsSocketio: ratio(targets.find((t) => t.target === 'socketio')) },
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  mkdirSync(dirname(o.plot), { recursive: true });
  const runTitle = `${o.subscribers} subscribers, ${o.instances} instance(s), ${o.rate} alerts/s for ${o.duration} s`;
  writeFileSync(o.plot, renderPlot(targets, runTitle));
  writeFileSync(memoryPlotPath(o.plot), renderMemoryPlot(processes.clarion ?? [], `Clarion RSS: ${runTitle}`));
  return report;
}
