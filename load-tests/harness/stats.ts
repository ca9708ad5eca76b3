/**
 * Latency histograms that merge across processes: 0.05 ms buckets up to 100 ms, 1 ms buckets up to
 * 60 s, then one overflow bucket. Percentiles are bucket upper bounds (≤ 0.05 ms error where it
 * matters); the exact maximum is kept beside the buckets.
 */
const FINE_MS = 0.05;
const FINE_LIMIT = 100;
const FINE = Math.round(FINE_LIMIT / FINE_MS);
const COARSE = 60_000 - FINE_LIMIT;
export const BUCKETS = FINE + COARSE + 1;

export function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < FINE_LIMIT) return Math.floor(ms / FINE_MS);
  return Math.min(BUCKETS - 1, FINE + Math.floor(ms - FINE_LIMIT));
}

export function upperBoundOf(bucket: number): number {
  if (bucket < FINE) return (bucket + 1) * FINE_MS;
  return FINE_LIMIT + (bucket - FINE) + 1;
}

export interface SparseHistogram {
  count: number;
  sum: number;
  max: number;
  /** [bucket, count] pairs of the non-empty buckets. */
  buckets: [number, number][];
}

export class Histogram {
  counts = new Uint32Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const b = bucketOf(ms);
    this.counts[b] = (this.counts[b] as number) + 1;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: SparseHistogram): void {
    for (const [b, c] of other.buckets) this.counts[b] = (this.counts[b] ?? 0) + c;
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  toSparse(): SparseHistogram {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) buckets.push([i, this.counts[i] as number]);
    return { count: this.count, sum: this.sum, max: this.max, buckets };
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.min(upperBoundOf(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const r = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
    return {
      count: this.count,
      mean: r(this.count ? this.sum / this.count : Number.NaN),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p95: r(this.percentile(95)),
      p99: r(this.percentile(99)),
      p999: r(this.percentile(99.9)),
      max: r(this.count ? this.max : Number.NaN),
    };
  }

  /** Cumulative distribution as [ms, fraction] points (for the plot). */
  cdf(): [number, number][] {
    const out: [number, number][] = [];
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] as number;
      if (!c) continue;
      seen += c;
      out.push([upperBoundOf(i), seen / this.count]);
    }
    return out;
  }
}

export interface LatencySummary {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/** Epoch milliseconds with sub-millisecond precision; comparable across processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
