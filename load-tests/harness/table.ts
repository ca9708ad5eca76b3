/** Plain-text tables of a harness report, for the terminal. */
import { judgeGoals } from './goals.js';
import type { HarnessReport } from './run.js';

function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '–' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(cells[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function formatReport(r: HarnessReport): string {
  const out: string[] = [];
  out.push(
    table(
      ['target / phase', 'alerts', 'deliveries', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'deliv/s'],
      r.targets.flatMap((t) =>
        (['steady', 'burst', 'flood'] as const).map((p) => {
          const x = t[p];
          return [`${t.target} ${p}`, x.raised, x.deliveries, x.latency.p50, x.latency.p95, x.latency.p99, x.latency.max, x.throughputPerSec];
        }),
      ),
    ),
  );
  out.push('');
  out.push(
    table(
      ['target', 'subscribers', 'connected', 'expected', 'received', 'duplicates', 'lost', 'unexpected', 'raise errors', 'after raise error', 'sub errors', 'reconnects'],
      r.targets.map((t) => [t.target, t.subscribers, t.connected, t.counts.expected, t.counts.received, t.counts.duplicates, t.counts.lost, t.counts.unexpected, t.steady.raiseErrors + t.burst.raiseErrors + t.flood.raiseErrors, t.counts.afterRaiseError, t.subscriberErrors, t.reconnects]),
    ),
  );
  const procs = Object.entries(r.processes).flatMap(([target, list]) => list.map((p) => [target, p.name, p.peakRssMb, p.meanCpuPct, p.peakCpuPct]));
  if (procs.length) {
    out.push('');
    out.push(table(['run', 'process', 'peak RSS MB', 'mean CPU %', 'peak CPU %'], procs));
  }
  const api = Object.entries(r.api.procedures);
  if (api.length) {
    out.push('');
    out.push(table(['procedure', 'calls', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'conflicts'], [
      ...api.map(([name, s]) => [name, s.count, s.p50, s.p95, s.p99, s.max, s.errors, s.conflicts]),
      ['(all)', r.api.overall.count, r.api.overall.p50, r.api.overall.p95, r.api.overall.p99, r.api.overall.max, r.api.errors, ''],
    ]));
    if (r.api.skipped.length) out.push(`skipped (procedure not present): ${r.api.skipped.join(', ')}`);
  }
  for (const t of r.targets) {
    if (t.target === 'clarion' && t.fromCreatedAt.count) out.push(`clarion steady, from the server's alert.createdAt (excludes the raise request): p50 ${t.fromCreatedAt.p50} ms, p99 ${t.fromCreatedAt.p99} ms`);
  }
  for (const [name, x] of Object.entries(r.ratios)) if (x) out.push(`clarion ${name}: flood throughput ×${x.throughput}, steady p99 ×${x.p99}`);
  const goals = judgeGoals(r);
  if (goals.length) {
    out.push('');
    out.push(table(['target (issue 14)', 'measured', 'result', 'conditions'], goals.map((g) => [g.goal, g.measured, g.met === null ? 'separate' : g.met ? 'met' : 'MISSED', g.note ?? ''])));
  }
  return out.join('\n');
}
