/** Issue 14's targets, judged against one harness report (each baseline from the same run). */
import { FLAT_GROWTH_PCT, memoryTrends } from './memory.js';
import type { HarnessReport } from './run.js';

export interface GoalResult {
  goal: string;
  measured: string;
  met: boolean | null;
  note?: string;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v} ms`);

export function judgeGoals(r: HarnessReport): GoalResult[] {
  const find = (name: string) => r.targets.find((t) => t.target === name);
  const clarion = find('clarion');
  const ws = find('ws');
  const sio = find('socketio');
  if (!clarion) return [];
  const out: GoalResult[] = [];
  const o = r.meta.options;
  const steadyNote = `${o.subscribers} subscribers, ${o.rate} alerts/s, ${o.instances} instances`;
  out.push({
    goal: 'steady create→delivered p99 ≤ 50 ms',
    measured: ms(clarion.steady.latency.p99),
    met: clarion.steady.latency.p99 !== null && clarion.steady.latency.p99 <= 50,
    note: steadyNote,
  });
  out.push({
    goal: '0 lost, 0 duplicated',
    measured: `${clarion.counts.lost} lost, ${clarion.counts.duplicates} duplicated`,
    met: clarion.counts.lost === 0 && clarion.counts.duplicates === 0,
  });
  if (ws) {
    const bound = ws.burst.latency.p99 === null ? null : Math.round(ws.burst.latency.p99 * 1.5);
    out.push({
      goal: 'burst to every screen: p99 ≤ 1.5 × raw ws',
      measured: `${ms(clarion.burst.latency.p99)} vs bound ${ms(bound)}`,
      met: bound !== null && clarion.burst.latency.p99 !== null && clarion.burst.latency.p99 <= bound,
    });
    out.push(throughput('≥ 0.5 × raw ws', clarion.flood.throughputPerSec, ws.flood.throughputPerSec, 0.5));
  }
  if (sio) out.push(throughput('≥ 1.0 × Socket.IO', clarion.flood.throughputPerSec, sio.flood.throughputPerSec, 1));
  const servers = (r.processes.clarion ?? []).filter((p) => p.name.startsWith('server'));
  if (servers.length) {
    const peak = Math.max(...servers.map((p) => p.peakRssMb));
    const perInstance = Math.round(clarion.connected / servers.length);
    out.push({ goal: 'server RSS ≤ 200 MB per instance', measured: `peak ${peak} MB`, met: peak <= 200, note: `${perInstance} sockets each` });
    const trends = memoryTrends(servers);
    out.push(
      trends.length
        ? {
            goal: `server RSS flat (≤ ${FLAT_GROWTH_PCT} % growth, a quarter in → last minute)`,
            measured: trends.map((m) => `${m.name} ${m.warmMb}→${m.endMb} MB (${m.growthPct > 0 ? '+' : ''}${m.growthPct} %)`).join(', '),
            met: trends.every((m) => m.growthPct <= FLAT_GROWTH_PCT),
            note: `${Math.round(o.duration / 60)}-minute run; curve in the memory plot`,
          }
        : { goal: 'server RSS flat over 10 minutes', measured: 'run too short (< 3 min)', met: null, note: 'npm run load -- --duration 600' },
    );
  }
  const api = r.api.overall;
  if (api.count) {
    out.push({
      goal: 'mixed API p95 ≤ 25 ms, 0 errors',
      measured: `p95 ${ms(api.p95)}, ${r.api.errors} errors`,
      met: api.p95 !== null && api.p95 <= 25 && r.api.errors === 0,
      note: `${o.apiUsers} users while the fan-out runs at ${o.rate} alerts/s (the target is at 20/s)`,
    });
  }
  out.push({ goal: 'creates ≥ 500/s per hospital, p99 ≤ 50 ms', measured: 'see npm run bench:create', met: null });
  return out;
}

function throughput(goal: string, clarion: number | null, other: number | null, factor: number): GoalResult {
  const ratio = clarion !== null && other ? Math.round((clarion / other) * 100) / 100 : null;
  return {
    goal: `flood deliveries/s ${goal}`,
    measured: `${clarion ?? '–'}/s vs ${other ?? '–'}/s (×${ratio ?? '–'})`,
    met: ratio !== null && ratio >= factor,
  };
}
