import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { toTRPCError } from '../../server/errors.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

/** Issue 13 item 5: a deadlock or serialization failure that still happens is retried once, never a 500. */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
  await env.deps.db.execute(sql`CREATE TABLE retry_probe (n int)`);
});

// A real Postgres error with the given SQLSTATE, raised inside the transaction.
const raise = (code: string) => sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '${code}'; END $$`);

describe('the transaction helper', () => {
  it('runs a transaction that hit a deadlock (40P01) once more, and the first attempt left nothing behind', async () => {
    let attempts = 0;
    const out = await env.deps.db.transaction(async (tx) => {
      attempts++;
      await tx.execute(sql`INSERT INTO retry_probe VALUES (${attempts})`);
      if (attempts === 1) await tx.execute(raise('40P01'));
      return 'committed';
    });
    expect(out).toBe('committed');
    expect(attempts).toBe(2);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT n FROM retry_probe ORDER BY n`);
    expect(rows.map((r) => r.n)).toEqual([2]);
  });

  it('retries a serialization failure (40001) too, but only once: a second failure is a 503, not a 500', async () => {
    let attempts = 0;
    const err = await env.deps.db
      .transaction(async (tx) => {
        attempts++;
        await tx.execute(raise('40001'));
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(attempts).toBe(2);
    expect(toTRPCError(err).code).toBe('SERVICE_UNAVAILABLE');
    let deadlocked = 0;
    const second = await env.deps.db.transaction(async (tx) => {
      deadlocked++;
      await tx.execute(raise('40P01'));
    }).catch((e: unknown) => e);
    expect(deadlocked).toBe(2);
    expect(toTRPCError(second)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Temporarily unavailable; try again shortly' });
  });

  it('does not retry other errors', async () => {
    let attempts = 0;
    const err = await env.deps.db
      .transaction(async (tx) => {
        attempts++;
        await tx.execute(raise('23505'));
      })
      .catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(toTRPCError(err).code).toBe('CONFLICT');
  });
});
