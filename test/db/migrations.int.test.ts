import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dropDatabase, ensureDatabase, withDatabase } from '../../server/db/admin.js';
import { migrateDown, migrateUp, migrationStatus, readMigrations } from '../../server/db/migrator.js';
import { runScript } from '../support/cli.js';
import { BASE_URL } from '../support/global-setup.js';

const run = promisify(execFile);
const DIR = new URL('../../migrations', import.meta.url).pathname;
const url = withDatabase(BASE_URL, `clarion_m_${inject('runId')}`);
let pool: pg.Pool;

async function schemaDump(): Promise<string> {
  const { stdout } = await run('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', url]);
  // The dump mentions nothing run-specific except comments and the \restrict key of newer pg_dump.
  return stdout.split('\n').filter((l) => !l.startsWith('--') && !l.startsWith('\\restrict') && !l.startsWith('\\unrestrict')).join('\n');
}

beforeAll(async () => {
  await ensureDatabase(url);
  pool = new pg.Pool({ connectionString: url, max: 2 });
});
afterAll(async () => {
  await pool.end();
  await dropDatabase(url);
});

describe('migrations', () => {
  const count = readMigrations(DIR).length;

  it('every migration has a down migration', () => {
    expect(count).toBeGreaterThanOrEqual(3);
    for (const m of readMigrations(DIR)) expect(m.downSql.trim().length).toBeGreaterThan(0);
  });

  it('round-trips: up, down to nothing, up again gives the same schema', async () => {
    expect(await migrateUp(pool, DIR)).toHaveLength(count);
    const first = await schemaDump();
    expect(first).toContain('CREATE TABLE public.audit_logs');
    expect(await migrateDown(pool, DIR, count)).toHaveLength(count);
    const empty = await schemaDump();
    expect(empty).not.toContain('CREATE TABLE public.users');
    expect(empty).not.toMatch(/CREATE FUNCTION public\.(audit|uuid_v7|clarion_hospital_lock)/);
    expect(await migrateUp(pool, DIR)).toHaveLength(count);
    expect(await schemaDump()).toBe(first);
  });

  it('reports status truthfully', async () => {
    expect((await migrationStatus(pool, DIR)).every((s) => s.state === 'applied')).toBe(true);
    await migrateDown(pool, DIR, 1);
    const status = await migrationStatus(pool, DIR);
    expect(status.filter((s) => s.state === 'pending').map((s) => s.id)).toEqual([count - 1]);
    await pool.query(`UPDATE clarion_migrations SET checksum = 'edited' WHERE id = 0`);
    expect((await migrationStatus(pool, DIR)).find((s) => s.id === 0)?.state).toBe('changed');
    await pool.query('UPDATE clarion_migrations SET checksum = $1 WHERE id = 0', [readMigrations(DIR)[0]!.checksum]);
    await migrateUp(pool, DIR);
  });

  it('runs each step in a transaction: a failing migration leaves nothing behind', async () => {
    const bad = `${DIR}/../test-artifacts/bad-migrations`;
    const { mkdirSync, writeFileSync, cpSync, rmSync } = await import('node:fs');
    rmSync(bad, { recursive: true, force: true });
    mkdirSync(bad, { recursive: true });
    cpSync(DIR, bad, { recursive: true });
    writeFileSync(`${bad}/9999_broken.sql`, 'CREATE TABLE half_done (id int);\nSELECT no_such_function();');
    writeFileSync(`${bad}/9999_broken.down.sql`, 'DROP TABLE half_done;');
    await expect(migrateUp(pool, bad)).rejects.toThrow(/no_such_function/);
    const { rows } = await pool.query(`SELECT to_regclass('half_done') AS t`);
    expect(rows[0].t).toBeNull();
    expect((await migrationStatus(pool, bad)).find((s) => s.id === 9999)?.state).toBe('pending');
  });

  it('the CLI exits non-zero on failure and refuses a production down without confirmation', async () => {
    const env = { ...process.env, DATABASE_URL: url, CLARION_ENV: 'test' };
    const ok = await runScript('scripts/migrate.ts', ['status'], env);
    expect(ok.stdout).toContain(`${count} applied, 0 pending`);
    const prod = {
      ...env,
      CLARION_ENV: 'production',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      TOKEN_SIGNING_SECRET: 'p'.repeat(40),
      AUDIT_ANCHOR_KEY: Buffer.alloc(32, 2).toString('base64'),
      DB_SSL: 'disable',
    };
    const refused = await runScript('scripts/migrate.ts', ['down'], prod);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--confirm-production');
    const bad = await runScript('scripts/migrate.ts', ['down', 'many'], env);
    expect(bad.code).toBe(2);
    expect((await migrationStatus(pool, DIR)).every((s) => s.state === 'applied')).toBe(true);
  });
});
