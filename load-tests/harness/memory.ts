/**
 * Memory over a run: whether each Clarion server's RSS stays flat, and the curve as SVG
 * (reports/load-memory.svg). "Flat" compares the median RSS of the last minute with the median of
 * the minute that starts a quarter into the run: before that, thousands of sockets are still
 * connecting on a busy box (two minutes of the 10-minute soak), and JIT and pools are filling.
 */
import type { ProcStats } from './processes.js';

export interface MemoryTrend {
  name: string;
  warmMb: number;
  endMb: number;
  growthPct: number;
}

/** Where the memory plot goes, beside the latency plot (reports/load-latency.svg → reports/load-memory.svg). */
export const memoryPlotPath = (latencyPlot: string) => (latencyPlot.includes('latency') ? latencyPlot.replace('latency', 'memory') : latencyPlot.replace(/\.svg$/, '-memory.svg'));

/** Growth the run may show and still count as flat (GC sawtooth and allocator noise). */
export const FLAT_GROWTH_PCT = 10;
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] as number) : 0;
};

/** One trend per process, or none when the run is shorter than three minutes (no warm/end windows). */
export function memoryTrends(procs: ProcStats[]): MemoryTrend[] {
  return procs.flatMap((p) => {
    const tEnd = p.samples.at(-1)?.t ?? 0;
    if (tEnd < 180) return [];
    const from = Math.max(60, tEnd / 4);
    const warm = median(p.samples.filter((s) => s.t >= from && s.t < from + 60).map((s) => s.rssMb));
    const end = median(p.samples.filter((s) => s.t >= tEnd - 60).map((s) => s.rssMb));
    return [{ name: p.name, warmMb: warm, endMb: end, growthPct: Math.round(((end - warm) / Math.max(1, warm)) * 1000) / 10 }];
  });
}

const W = 900;
const H = 420;
const PAD = { l: 60, r: 160, t: 40, b: 50 };
const PALETTE = ['#1971c2', '#c92a2a', '#2b8a3e', '#e67700', '#7048e8', '#0c8599', '#868e96', '#d6336c'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** RSS (MB) against seconds into the run, one line per process. */
export function renderMemoryPlot(procs: ProcStats[], title: string): string {
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const all = procs.flatMap((p) => p.samples);
  const tMax = Math.max(1, ...all.map((s) => s.t));
  const yMax = Math.ceil(Math.max(100, ...all.map((s) => s.rssMb)) / 100) * 100;
  const x = (t: number) => PAD.l + (t / tMax) * pw;
  const y = (mb: number) => PAD.t + ph - (mb / yMax) * ph;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.l + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let mb = 0; mb <= yMax; mb += yMax > 400 ? 100 : 50) {
    out.push(`<line x1="${PAD.l}" x2="${PAD.l + pw}" y1="${y(mb)}" y2="${y(mb)}" stroke="#eee"/><text x="${PAD.l - 6}" y="${y(mb) + 4}" text-anchor="end">${mb}</text>`);
  }
  const step = tMax > 400 ? 60 : tMax > 100 ? 20 : 10;
  for (let t = 0; t <= tMax; t += step) out.push(`<text x="${x(t)}" y="${PAD.t + ph + 16}" text-anchor="middle">${t}</text>`);
  out.push(`<text x="${PAD.l + pw / 2}" y="${PAD.t + ph + 36}" text-anchor="middle">seconds into the run</text>`);
  out.push(`<text x="16" y="${PAD.t + ph / 2}" transform="rotate(-90 16 ${PAD.t + ph / 2})" text-anchor="middle">RSS (MB)</text>`);
  out.push(`<rect x="${PAD.l}" y="${PAD.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  procs.forEach((p, i) => {
    const color = PALETTE[i % PALETTE.length];
    const d = p.samples.map((s, k) => `${k ? 'L' : 'M'}${x(s.t).toFixed(1)},${y(s.rssMb).toFixed(1)}`).join(' ');
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    out.push(`<rect x="${PAD.l + pw + 12}" y="${PAD.t + 8 + i * 18}" width="14" height="3" fill="${color}"/><text x="${PAD.l + pw + 30}" y="${PAD.t + 13 + i * 18}">${esc(`${p.name} (peak ${p.peakRssMb})`)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
