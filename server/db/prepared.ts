import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Tx } from './client.js';

/**
 * Named (server-side prepared) statements for the hot read paths. pg sends Parse once per
 * connection and name, then only Bind/Execute: Postgres skips parsing and, once it has seen the
 * statement five times and found a generic plan no worse than the custom ones, planning too.
 *
 * The name is derived from the SQL text, so each query shape (which optional filters are present)
 * gets its own statement and two different texts can never share a name (pg would reject that).
 * The number of shapes is small and fixed, so the per-connection statement cache stays bounded.
 * Behind PgBouncer in transaction mode, named statements need PgBouncer ≥ 1.21 with
 * max_prepared_statements set (see docs/query-performance.md).
 */
export function statementName(prefix: string, text: string): string {
  return `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
}

const dialect = new PgDialect();

/** Runs raw SQL as a named prepared statement on `db` (the pool or an open transaction); returns its rows. */
export async function executeNamed<T>(db: Tx, prefix: string, query: SQL): Promise<T[]> {
  const q = dialect.sqlToQuery(query);
  const prepared = db._.session.prepareQuery<{ execute: { rows: T[] }; all: unknown; values: unknown }>(q, undefined, statementName(prefix, q.sql), false);
  const result = await prepared.execute();
  return result.rows;
}
