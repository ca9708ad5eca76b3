import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

export interface Migration {
  id: number;
  name: string;
  upSql: string;
  downSql: string;
  checksum: string;
}

export interface MigrationStatus {
  id: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'missing-file';
  appliedAt?: Date;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const LOCK_KEY = 7_134_202_611; // session advisory lock: one migrator at a time per database

export function readMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => FILE.test(f)).sort();
  return files.map((file) => {
    const [, num, name] = FILE.exec(file) as RegExpExecArray;
    const upSql = readFileSync(join(dir, file), 'utf8');
    const downFile = join(dir, `${num}_${name}.down.sql`);
    let downSql: string;
    try {
      downSql = readFileSync(downFile, 'utf8');
    } catch {
      throw new Error(`migration ${file} has no down migration (${num}_${name}.down.sql)`);
    }
    return { id: Number(num), name: `${num}_${name}`, upSql, downSql, checksum: createHash('sha256').update(upSql).digest('hex') };
  });
}

async function ensureTable(client: pg.ClientBase): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS clarion_migrations (
    id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
}

async function applied(client: pg.ClientBase): Promise<Map<number, { name: string; checksum: string; applied_at: Date }>> {
  const { rows } = await client.query<{ id: number; name: string; checksum: string; applied_at: Date }>(
    'SELECT id, name, checksum, applied_at FROM clarion_migrations ORDER BY id',
  );
  return new Map(rows.map((r) => [r.id, r]));
}

async function withLock<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await ensureTable(client);
    return await fn(client);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

async function inTransaction(client: pg.ClientBase, sql: string, after: () => Promise<unknown>): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(sql);
    await after();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

export async function migrationStatus(pool: pg.Pool, dir: string): Promise<MigrationStatus[]> {
  const files = readMigrations(dir);
  return withLock(pool, async (client) => {
    const done = await applied(client);
    const out: MigrationStatus[] = files.map((m) => {
      const row = done.get(m.id);
      if (!row) return { id: m.id, name: m.name, state: 'pending' };
      return { id: m.id, name: m.name, state: row.checksum === m.checksum ? 'applied' : 'changed', appliedAt: row.applied_at };
    });
    for (const [id, row] of done) {
      if (!files.some((m) => m.id === id)) out.push({ id, name: row.name, state: 'missing-file', appliedAt: row.applied_at });
    }
    return out.sort((a, b) => a.id - b.id);
  });
}

/** Applies every pending migration, each in its own transaction. Returns the names applied. */
export async function migrateUp(pool: pg.Pool, dir: string, onStep?: (name: string) => void): Promise<string[]> {
  const files = readMigrations(dir);
  return withLock(pool, async (client) => {
    const done = await applied(client);
    const ran: string[] = [];
    for (const m of files) {
      if (done.has(m.id)) continue;
      onStep?.(m.name);
      await inTransaction(client, m.upSql, () =>
        client.query('INSERT INTO clarion_migrations (id, name, checksum) VALUES ($1, $2, $3)', [m.id, m.name, m.checksum]),
      );
      ran.push(m.name);
    }
    return ran;
  });
}

/** Rolls back the last `steps` applied migrations, newest first. Returns the names rolled back. */
export async function migrateDown(pool: pg.Pool, dir: string, steps: number, onStep?: (name: string) => void): Promise<string[]> {
  const files = new Map(readMigrations(dir).map((m) => [m.id, m]));
  return withLock(pool, async (client) => {
    const done = [...(await applied(client)).keys()].sort((a, b) => b - a).slice(0, steps);
    const ran: string[] = [];
    for (const id of done) {
      const m = files.get(id);
      if (!m) throw new Error(`migration ${id} is applied but its files are missing; cannot roll it back`);
      onStep?.(m.name);
      await inTransaction(client, m.downSql, () => client.query('DELETE FROM clarion_migrations WHERE id = $1', [id]));
      ran.push(m.name);
    }
    return ran;
  });
}
