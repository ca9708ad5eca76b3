import type pg from 'pg';

/** Benchmark data set; filled in by the large-seed work (see README). */
export async function seedLarge(_pool: pg.Pool): Promise<void> {
  throw new Error('the large seed is not built yet');
}
