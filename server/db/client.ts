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

export function createDatabase(pool: pg.Pool): Database {
  return drizzle(pool, { schema });
}

/** Idle-client errors (a Postgres restart) must not crash the process; the pool replaces the client. */
export function watchPool(pool: pg.Pool, log: Logger): void {
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres client failed; the pool will replace it'));
}
