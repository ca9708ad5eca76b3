/**
 * The latency plot, as hand-written SVG: left, Clarion's steady-phase delivery latency per send
 * second (p50, p95, p99, max); right, the latency distribution of every target side by side (percentile on a "nines" scale).
 * Both y/x latency axes are logarithmic, since p50 and max differ by orders of magnitude.
 */
import type { TargetReport } from './target.js';

const W = 1100;
const H = 500;
const PAD = { l: 60, r: 20, t: 40, b: 100 };
const PANEL = (W - 3 * 40) / 2;
const COLORS: Record<string, string> = { p50: '#2b8a3e', p95: '#e67700', p99: '#c92a2a', max: '#868e96', clarion: '#1971c2', ws: '#2b8a3e', socketio: '#e67700' };

/** The largest value, or 10 when there is none (an empty panel still gets an axis). */
const hiOf = (v: number[]) => (v.length ? Math.max(...v) : 10);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (ms: number) => (ms >= 1000 ? `${ms / 1000}s` : `${Number(ms.toPrecision(3))}ms`);

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  // 1-2-5 ticks over a few decades; only powers of ten when the range is wide (labels would collide).
  const mantissas = Math.log10(hi / lo) > 3 ? [1] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of mantissas) ticks.push(m * 10 ** e);
  return ticks.filter((t) => t >= lo && t <= hi);
}

export function renderPlot(targets: TargetReport[], title: string): string {
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);

  // Left panel: percentiles over time (Clarion).
  const clarion = targets.find((t) => t.target === 'clarion') ?? targets[0];
  const x0 = PAD.l;
  const y0 = PAD.t;
  const ph = H - PAD.t - PAD.b;
  const series = ['p50', 'p95', 'p99', 'max'] as const;
  const points = clarion?.timeline.filter((p) => p.count > 0) ?? [];
  const values = points.flatMap((p) => series.map((k) => p[k] ?? 0)).filter((v) => v > 0);
  const lo = Math.max(0.1, 10 ** Math.floor(Math.log10(Math.min(...values, hiOf(values)))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const tMax = Math.max(1, ...points.map((p) => p.t));
  const ly = (v: number) => y0 + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const lx = (t: number) => x0 + (t / tMax) * PANEL;
  out.push(`<text x="${x0 + PANEL / 2}" y="${y0 - 8}" text-anchor="middle" font-weight="bold">${esc(`${clarion?.target ?? ''}: create → delivered latency per second (steady phase)`)}</text>`);
  for (const t of logTicks(lo, hi)) {
    out.push(`<line x1="${x0}" x2="${x0 + PANEL}" y1="${ly(t)}" y2="${ly(t)}" stroke="#eee"/><text x="${x0 - 6}" y="${ly(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  const step = tMax > 300 ? 60 : tMax > 60 ? 20 : tMax > 20 ? 10 : tMax > 5 ? 2 : 1;
  for (let t = 0; t <= tMax; t += step) out.push(`<text x="${lx(t)}" y="${y0 + ph + 16}" text-anchor="middle">${t}</text>`);
  out.push(`<text x="${x0 + PANEL / 2}" y="${y0 + ph + 34}" text-anchor="middle">seconds since the first alert</text>`);
  out.push(`<rect x="${x0}" y="${y0}" width="${PANEL}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const k of series) {
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${lx(p.t).toFixed(1)},${ly(p[k] ?? lo).toFixed(1)}`).join(' ');
    if (d) out.push(`<path d="${d}" fill="none" stroke="${COLORS[k]}" stroke-width="${k === 'max' ? 1 : 2}"${k === 'max' ? ' stroke-dasharray="4 3"' : ''}/>`);
  }
  series.forEach((k, i) => {
    out.push(`<rect x="${x0 + 10 + i * 70}" y="${y0 + ph + 51}" width="12" height="3" fill="${COLORS[k]}"/><text x="${x0 + 26 + i * 70}" y="${y0 + ph + 56}">${k}</text>`);
  });

  // Right panel: CDF per target, x log-scaled.
  const x1 = x0 + PANEL + 80;
  const cdfs = targets.filter((t) => t.cdf.length);
  const xs = cdfs.flatMap((t) => t.cdf.map(([ms]) => ms));
  const clo = Math.max(0.1, 10 ** Math.floor(Math.log10(Math.min(...xs, hiOf(xs)))));
  const chi = 10 ** Math.ceil(Math.log10(Math.max(...xs, 10)));
  const cx = (ms: number) => x1 + ((Math.log10(Math.max(ms, clo)) - Math.log10(clo)) / (Math.log10(chi) - Math.log10(clo))) * PANEL;
  // y: percentile on a "nines" scale (-log10(1 - f)), so p50, p90, p99 and p99.9 are evenly spaced.
  const NINES = 4;
  const cy = (f: number) => y0 + ph - (Math.min(NINES, -Math.log10(Math.max(1 - f, 10 ** -NINES))) / NINES) * ph;
  out.push(`<text x="${x1 + PANEL / 2}" y="${y0 - 8}" text-anchor="middle" font-weight="bold">Latency percentiles (steady phase), all targets</text>`);
  for (const [f, label] of [[0, '0%'], [0.5, 'p50'], [0.9, 'p90'], [0.99, 'p99'], [0.999, 'p99.9'], [0.9999, 'p99.99']] as const) {
    out.push(`<line x1="${x1}" x2="${x1 + PANEL}" y1="${cy(f)}" y2="${cy(f)}" stroke="#eee"/><text x="${x1 - 6}" y="${cy(f) + 4}" text-anchor="end">${label}</text>`);
  }
  for (const t of logTicks(clo, chi)) out.push(`<line x1="${cx(t)}" x2="${cx(t)}" y1="${y0}" y2="${y0 + ph}" stroke="#f3f3f3"/><text x="${cx(t)}" y="${y0 + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(`<text x="${x1 + PANEL / 2}" y="${y0 + ph + 34}" text-anchor="middle">create → delivered latency (log scale)</text>`);
  out.push(`<rect x="${x1}" y="${y0}" width="${PANEL}" height="${ph}" fill="none" stroke="#999"/>`);
  // The CDF is a step function: each bucket's upper bound reaches its cumulative fraction.
  for (const t of cdfs) {
    let prev = 0;
    const d = t.cdf.map(([ms, f], k) => {
      const seg = `${k ? 'L' : 'M'}${cx(ms).toFixed(1)},${cy(prev).toFixed(1)} L${cx(ms).toFixed(1)},${cy(f).toFixed(1)}`;
      prev = f;
      return seg;
    }).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${COLORS[t.target] ?? '#000'}" stroke-width="2"/>`);
  }
  // Legends sit under the axis, never over a curve.
  cdfs.forEach((t, i) => {
    const l = t.steady.latency;
    const ly0 = y0 + ph + 51 + i * 15;
    out.push(`<rect x="${x1}" y="${ly0}" width="12" height="3" fill="${COLORS[t.target] ?? '#000'}"/><text x="${x1 + 16}" y="${ly0 + 5}">${esc(`${t.target}: p50 ${l.p50 ?? '–'} ms, p99 ${l.p99 ?? '–'} ms, max ${l.max ?? '–'} ms`)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
