import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL } from '../../test/support/global-setup.js';
import { instrumentPool, sqlSummary } from './slow-query.js';

// Against the real Postgres: the hook must see pg's own internals (Pool.query uses the callback form).
describe('instrumentPool', () => {
  const logged: { obj: Record<string, unknown>; msg: string }[] = [];
  const seen: { ms: number; slow: boolean }[] = [];
  const pool = new pg.Pool({ connectionString: BASE_URL, max: 2 });
  instrumentPool(pool, {
    thresholdMs: 10,
    maxSqlLength: 60,
    log: { warn: (obj, msg) => logged.push({ obj: obj as Record<string, unknown>, msg }) },
    onQuery: (ms, slow) => seen.push({ ms, slow }),
  });
  const reset = () => {
    logged.length = 0;
    seen.length = 0;
  };

  beforeAll(reset);
  afterAll(() => pool.end());

  it('logs a query slower than the threshold and counts it (pool.query → callback form)', async () => {
    reset();
    await pool.query('SELECT pg_sleep(0.05)');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.slow).toBe(true);
    expect(seen[0]?.ms).toBeGreaterThanOrEqual(45);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.msg).toBe('slow query');
    expect(logged[0]?.obj.sql).toBe('SELECT pg_sleep(0.05)');
    expect(logged[0]?.obj.durationMs).toBeGreaterThanOrEqual(45);
  });

  it('counts fast queries without logging them', async () => {
    // Its own pool with a generous threshold: on a loaded machine even SELECT 1 can take 10 ms.
    const quiet: { ms: number; slow: boolean }[] = [];
    const warned: unknown[] = [];
    const fast = new pg.Pool({ connectionString: BASE_URL, max: 1 });
    instrumentPool(fast, { thresholdMs: 2_000, log: { warn: (obj) => warned.push(obj) }, onQuery: (ms, slow) => quiet.push({ ms, slow }) });
    try {
      await fast.query('SELECT 1');
    } finally {
      await fast.end();
    }
    expect(quiet).toEqual([{ ms: expect.any(Number), slow: false }]);
    expect(warned).toHaveLength(0);
  });

  it('times the promise form on a checked-out client, named statements included', async () => {
    reset();
    const client = await pool.connect();
    try {
      await client.query({ name: 'slow_query_test_sleep', text: 'SELECT pg_sleep($1::float8)', values: [0.03] });
      await client.query('SELECT $1::int AS n', [7]);
    } finally {
      client.release();
    }
    expect(seen).toHaveLength(2);
    expect(seen[0]?.slow).toBe(true);
    expect(logged[0]?.obj.statement).toBe('slow_query_test_sleep');
    expect(logged).toHaveLength(seen[1]?.slow ? 2 : 1);
  });

  it('times the callback forms and failed queries', async () => {
    reset();
    const client = await pool.connect();
    try {
      await new Promise<void>((resolve) => client.query('SELECT pg_sleep(0.02)', () => resolve()));
      await new Promise<void>((resolve) => client.query('SELECT pg_sleep($1::float8)', [0.02], () => resolve()));
      await expect(client.query('SELECT pg_sleep(0.02), no_such_column')).rejects.toThrow(/no_such_column/);
    } finally {
      client.release();
    }
    expect(seen).toHaveLength(3);
    expect(seen.slice(0, 2).every((s) => s.slow)).toBe(true);
  });

  it('never logs parameter values, and truncates long SQL', async () => {
    reset();
    const secret = 'hunter2-patient-MRN-0042';
    await pool.query(`SELECT pg_sleep(0.02), $1::text AS secret, '${'x'.repeat(100)}' AS padding`, [secret]);
    expect(logged).toHaveLength(1);
    const line = JSON.stringify(logged);
    expect(line).not.toContain(secret);
    expect(String(logged[0]?.obj.sql)).toHaveLength(61);
    expect(String(logged[0]?.obj.sql).endsWith('…')).toBe(true);
  });

  it('collapses whitespace so a log line stays one line', () => {
    expect(sqlSummary('SELECT\n  a,\n\tb\nFROM t')).toBe('SELECT a, b FROM t');
  });
});
