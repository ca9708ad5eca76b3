import { describe, expect, it } from 'vitest';
import { memoryPlotPath, memoryTrends, renderMemoryPlot } from './memory.js';
import type { ProcStats } from './processes.js';

const proc = (name: string, rssAt: (t: number) => number, seconds: number): ProcStats => {
  const samples = Array.from({ length: seconds }, (_, i) => ({ t: i + 1, rssMb: rssAt(i + 1), cpuPct: 10 }));
  return { name, pid: 1, samples, peakRssMb: Math.max(...samples.map((s) => s.rssMb)), meanCpuPct: 10, peakCpuPct: 10 };
};

describe('memory trend of a load run', () => {
  it('compares the minute a quarter into the run with the last minute, ignoring the warm-up', () => {
    // Warm-up climbs to 150 MB in the first minute, then a flat sawtooth; the other one leaks 1 MB every 5 s.
    const flat = proc('server-1', (t) => (t < 60 ? 100 + t : 150 + (t % 7)), 600);
    const leak = proc('server-2', (t) => 150 + t / 5, 600);
    const [a, b] = memoryTrends([flat, leak]);
    expect(a).toMatchObject({ name: 'server-1', warmMb: 153, endMb: 153, growthPct: 0 });
    expect(b?.warmMb).toBe(186);
    expect(b?.endMb).toBe(264);
    expect(b?.growthPct).toBeCloseTo(41.9, 1);
  });

  it('gives no verdict for a run shorter than three minutes', () => {
    expect(memoryTrends([proc('server-1', () => 100, 120)])).toEqual([]);
  });

  it('draws one line per process next to the latency plot', () => {
    const svg = renderMemoryPlot([proc('server-1', () => 120, 200), proc('server-2', () => 130, 200)], 'run');
    expect(svg.match(/<path /g)?.length).toBe(2);
    expect(svg).toContain('server-2 (peak 130)');
    expect(memoryPlotPath('reports/load-latency.svg')).toBe('reports/load-memory.svg');
    expect(memoryPlotPath('x/smoke.svg')).toBe('x/smoke-memory.svg');
  });
});
