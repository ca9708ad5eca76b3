import { readFileSync } from 'node:fs';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import * as schema from './schema.js';

export type Database = NodePgDatabase<typeof schema>;
/** A database handle or an open transaction: services take either, so callers decide atomicity. */
export type Tx = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

// Bigint columns (alert_events.id, audit seq) arrive as decimal strings, which is also the wire format.
// timestamptz stays a Date; int8 stays a string.

function sslOption(db: Config['database']): pg.PoolConfig['ssl'] {
  if (db.ssl === 'disable') return false;
  if (db.ssl === 'require') return { rejectUnauthorized: false };
  // verify-full: check the chain and the host name (the specification's rejectUnauthorized:false is unsafe).
  return { rejectUnauthorized: true, ...(db.sslCaFile ? { ca: readFileSync(db.sslCaFile, 'utf8') } : {}) };
}

export function createPool(config: Pick<Config, 'database'>, overrides: { url?: string; max?: number } = {}): pg.Pool {
  const db = config.database;
  return new pg.Pool({
    connectionString: overrides.url ?? db.url,
    min: db.poolMin,
    max: overrides.max ?? db.poolMax,
    connectionTimeoutMillis: db.connectionTimeoutMs,
    idleTimeoutMillis: db.idleTimeoutMs,
    statement_timeout: db.statementTimeoutMs,
    application_name: 'clarion',
    ssl: sslOption(db),
  });
}

/** Deadlock (40P01) and serialization failure (40001): the whole transaction may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

export function isRetryableTransactionError(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Every service transaction goes through this handle, so every one of them gets the same last resort:
 * a deadlock or serialization failure rolls back and runs once more. The lock order (DESIGN.md: row
 * locks first, the hospital lock last) is what prevents deadlocks; this only keeps a rare survivor from
 * reaching a nurse as an error. A second failure is thrown (errors.ts answers it 503, "try again").
 * Callbacks must not have side effects outside the database (publish, enqueue, mail): services do
 * those after the transaction has committed, so a retried attempt cannot send anything twice.
 * Nested `tx.transaction` savepoints are not retried: a deadlock aborts the whole outer transaction.
 */
export function createDatabase(pool: pg.Pool, log?: Pick<Logger, 'warn'>): Database {
  const db = drizzle(pool, { schema });
  const once = db.transaction.bind(db);
  const withRetry: Database['transaction'] = async (fn, config) => {
    try {
      return await once(fn, config);
    } catch (err) {
      if (!isRetryableTransactionError(err)) throw err;
      log?.warn({ code: (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code }, 'transaction hit a deadlock or serialization failure; running it once more');
      return once(fn, config);
    }
  };
  db.transaction = withRetry;
  return db;
}

/** Idle-client errors (a Postgres restart) must not crash the process; the pool replaces the client. */
export function watchPool(pool: pg.Pool, log: Logger): void {
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres client failed; the pool will replace it'));
}
