/**
 * The mixed API workload of virtual users (Clarion only): nurses loading their board and
 * acknowledging recent alerts of their department, admins paging alerts, audit logs and users.
 * Operators raising alerts is the raise loop itself (its alerts.create latency lands here too).
 */
import { type CallResult, isMissingProcedure, trpc } from './api.js';
import type { Fixture } from './setup.js';
import { Histogram, type LatencySummary } from './stats.js';

export interface ProcedureReport extends LatencySummary {
  errors: number;
  /** Expected refusals (CONFLICT when two nurses race for one acknowledgement). */
  conflicts: number;
}

export class ApiStats {
  readonly latency = new Map<string, Histogram>();
  readonly errors = new Map<string, number>();
  readonly conflicts = new Map<string, number>();
  readonly skipped = new Set<string>();
  readonly errorSamples: string[] = [];
  total = 0;

  record(path: string, r: CallResult): void {
    if (isMissingProcedure(r)) {
      this.skipped.add(path);
      return;
    }
    this.total++;
    let h = this.latency.get(path);
    if (!h) {
      h = new Histogram();
      this.latency.set(path, h);
    }
    h.record(r.ms);
    if (r.ok) return;
    if (r.code === 'CONFLICT') {
      this.conflicts.set(path, (this.conflicts.get(path) ?? 0) + 1);
      return;
    }
    this.errors.set(path, (this.errors.get(path) ?? 0) + 1);
    if (this.errorSamples.length < 20) this.errorSamples.push(`${path}: ${r.code} ${r.message ?? ''}`.slice(0, 240));
  }

  get errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  /** All procedures together (the "mixed workload" p95). */
  overall(): LatencySummary {
    const all = new Histogram();
    for (const h of this.latency.values()) all.merge(h.toSparse());
    return all.summary();
  }

  report(): Record<string, ProcedureReport> {
    const out: Record<string, ProcedureReport> = {};
    for (const [path, h] of [...this.latency].sort(([a], [b]) => a.localeCompare(b))) {
      out[path] = { ...h.summary(), errors: this.errors.get(path) ?? 0, conflicts: this.conflicts.get(path) ?? 0 };
    }
    return out;
  }
}

/** Alerts created so far, per department, for nurses to acknowledge. */
export class RecentAlerts {
  private readonly byDept: string[][];
  constructor(departments: number) {
    this.byDept = Array.from({ length: departments }, () => []);
  }
  add(dept: number, id: string): void {
    const list = this.byDept[dept] as string[];
    list.push(id);
    if (list.length > 200) list.shift();
  }
  take(dept: number): string | undefined {
    const list = this.byDept[dept] as string[];
    return list.length ? list.splice(Math.floor(Math.random() * list.length), 1)[0] : undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface VirtualUsersOptions {
  users: number;
  thinkMs: number;
  ackRatio: number;
}

/** Runs the virtual users until `stop()`; each alternates an action and a jittered think time. */
export function startVirtualUsers(urls: string[], fx: Fixture, recent: RecentAlerts, stats: ApiStats, o: VirtualUsersOptions): { stop(): Promise<void> } {
  let running = true;
  const loops: Promise<void>[] = [];
  for (let i = 0; i < o.users; i++) {
    const url = urls[i % urls.length] as string;
    const isAdmin = i % 4 === 0;
    const dept = i % fx.departments.length;
    const pool = isAdmin ? fx.admins : (fx.nurses[dept] ?? []);
    const user = pool[i % Math.max(1, pool.length)];
    if (!user) continue;
    loops.push(
      (async () => {
        await sleep(Math.random() * o.thinkMs);
        for (let n = 0; running; n++) {
          if (isAdmin) {
            const step = n % 4;
            if (step === 0) stats.record('alerts.list', await trpc(url, 'query', 'alerts.list', { limit: 25 }, user.token));
            else if (step === 1) stats.record('audit.getLogs', await trpc(url, 'query', 'audit.getLogs', { limit: 50 }, user.token));
            else if (step === 2) stats.record('users.getAll', await trpc(url, 'query', 'users.getAll', { page: 1 + (n % 5), limit: 20 }, user.token));
            else stats.record('users.getAll?search', await trpc(url, 'query', 'users.getAll', { page: 1, limit: 20, search: `load nurse ${n % 97}` }, user.token));
          } else {
            const alertId = Math.random() < o.ackRatio ? recent.take(dept) : undefined;
            if (alertId) stats.record('alerts.acknowledge', await trpc(url, 'mutation', 'alerts.acknowledge', { alertId }, user.token));
            else stats.record('alerts.getActive', await trpc(url, 'query', 'alerts.getActive', undefined, user.token));
          }
          await sleep(o.thinkMs * (0.5 + Math.random()));
        }
      })(),
    );
  }
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
