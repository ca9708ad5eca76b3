import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { type AnchorKeys, chainHeads, checkAnchors, signAnchor } from '../audit/anchor.js';
import type { Anchor } from '../audit/schemas.js';
import { dropDatabase, ensureDatabase, withDatabase } from '../db/admin.js';
import type { Database } from '../db/client.js';
import * as schema from '../db/schema.js';

/**
 * Backups: `pg_dump -Fc` taken inside an exported snapshot, in which the row count of every table is
 * recorded as well (the manifest), so a restore can be checked exactly even while the system is live.
 * Used by scripts/backup.sh, scripts/restore-verify.ts, scripts/deploy.sh and the worker's scheduled job.
 */

const run = promisify(execFile);
// Milliseconds in the name: backups taken within one second must still sort newest first.
const FILE = /^clarion-(\d{8}T\d{6}(?:\.\d{3})?Z)(-[a-z0-9]+)?\.dump$/;

export interface BackupManifest {
  file: string;
  database: string;
  takenAt: string;
  sha256: string;
  bytes: number;
  rowCounts: Record<string, number>;
  migrations: number;
  /** Every audit chain's head in the dump's snapshot, HMAC-signed with AUDIT_ANCHOR_KEY (server/audit/anchor.ts). */
  auditAnchors: Anchor[];
}

const drizzleOn = (client: pg.Client) => drizzle(client, { schema }) as unknown as Database;

export interface BackupResult extends BackupManifest {
  path: string;
  removed: string[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function rowCounts(client: pg.ClientBase): Promise<Record<string, number>> {
  const { rows: tables } = await client.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`);
    out[name] = Number(rows[0]?.n ?? 0);
  }
  return out;
}

/** pg tools take the connection string as-is, but not our sslmode-less URLs' TLS wishes: pass PG* env. */
function pgEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '10' };
}

/** Takes one backup into `dir`, writes `<file>.sha256` and `<file>.json`, and keeps the newest `keep`. */
export async function takeBackup(options: { databaseUrl: string; dir: string; keep: number; anchorKey: Buffer; tag?: string }): Promise<BackupResult> {
  await mkdir(options.dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '');
  const file = `clarion-${stamp}${options.tag ? `-${options.tag}` : `-${randomBytes(2).toString('hex')}`}.dump`;
  const path = join(options.dir, file);
  const partial = `${path}.partial`;
  const client = new pg.Client({ connectionString: options.databaseUrl, statement_timeout: 0 });
  await client.connect();
  let manifest: BackupManifest;
  try {
    // The dump and the counts see the same snapshot, so restore-verify can compare them exactly.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const counts = await rowCounts(client);
    const heads = await chainHeads(drizzleOn(client));
    await run('pg_dump', ['-Fc', '--snapshot', rows[0]?.id as string, '-f', partial, '-d', options.databaseUrl], { env: pgEnv(), maxBuffer: 16 * 1024 * 1024 });
    await client.query('COMMIT');
    await rename(partial, path);
    const sha256 = await sha256File(path);
    manifest = {
      file,
      database: new URL(options.databaseUrl).pathname.slice(1),
      takenAt: new Date().toISOString(),
      sha256,
      bytes: (await stat(path)).size,
      rowCounts: counts,
      migrations: counts.clarion_migrations ?? 0,
      auditAnchors: heads.map((h) => signAnchor(options.anchorKey, h)),
    };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
  // sha256sum format, so `sha256sum -c` checks it without Clarion.
  await writeFile(`${path}.sha256`, `${manifest.sha256}  ${file}\n`);
  await writeFile(`${path}.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  const removed = await pruneBackups(options.dir, options.keep);
  return { ...manifest, path, removed };
}

/** Backups in `dir`, newest first. */
export async function listBackups(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => FILE.test(n)).sort().reverse();
}

export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const old = (await listBackups(dir)).slice(keep);
  for (const f of old) for (const ext of ['', '.sha256', '.json']) await rm(join(dir, `${f}${ext}`), { force: true });
  return old;
}

export interface VerifyResult {
  ok: boolean;
  scratchDatabase: string;
  checksumOk: boolean;
  tables: { table: string; expected: number; restored: number }[];
  chains: { chainId: string; rowsChecked: number; problem: string | null }[];
  problems: string[];
}

/**
 * Restores a backup into a scratch database on the same server, then checks: the file's checksum,
 * every table's row count against the manifest (or, without one, against `compareWith`), and every
 * audit chain with audit_verify(). The scratch database is dropped afterwards unless `keep`.
 */
export async function verifyBackup(options: { path: string; databaseUrl: string; compareWith?: string; keep?: boolean; anchorKey?: AnchorKeys }): Promise<VerifyResult> {
  const problems: string[] = [];
  const manifest = await readFile(`${options.path}.json`, 'utf8').then((t) => JSON.parse(t) as BackupManifest).catch(() => undefined);
  const expectedSum = manifest?.sha256 ?? (await readFile(`${options.path}.sha256`, 'utf8').catch(() => '')).split(/\s/)[0];
  const actualSum = await sha256File(options.path);
  const checksumOk = !!expectedSum && expectedSum === actualSum;
  if (!checksumOk) problems.push(expectedSum ? 'checksum mismatch: the file changed since it was written' : 'no checksum file');

  const scratch = `clarion_verify_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const scratchUrl = withDatabase(options.databaseUrl, scratch);
  await ensureDatabase(scratchUrl);
  const tables: VerifyResult['tables'] = [];
  const chains: VerifyResult['chains'] = [];
  try {
    await run('pg_restore', ['--exit-on-error', '-d', scratchUrl, options.path], { env: pgEnv(), maxBuffer: 16 * 1024 * 1024 });
    const restored = new pg.Client({ connectionString: scratchUrl, statement_timeout: 0 });
    await restored.connect();
    try {
      const counts = await rowCounts(restored);
      let expected = manifest?.rowCounts;
      if (!expected && options.compareWith) {
        const source = new pg.Client({ connectionString: options.compareWith });
        await source.connect();
        expected = await rowCounts(source).finally(() => source.end());
      }
      if (!expected) problems.push('no manifest and no source to compare row counts with');
      for (const table of new Set([...Object.keys(expected ?? {}), ...Object.keys(counts)])) {
        const e = expected?.[table] ?? -1;
        const r = counts[table] ?? -1;
        tables.push({ table, expected: e, restored: r });
        if (expected && e !== r) problems.push(`${table}: ${r} row(s) restored, ${e} expected`);
      }
      const { rows: ids } = await restored.query<{ chain_id: string }>(
        'SELECT DISTINCT chain_id FROM audit_logs UNION SELECT chain_id FROM audit_chain_anchors ORDER BY 1',
      );
      for (const { chain_id } of ids) {
        const { rows } = await restored.query<{ rows_checked: string; first_bad_seq: string | null; problem: string | null }>(
          'SELECT * FROM audit_verify($1)',
          [chain_id],
        );
        const r = rows[0];
        chains.push({ chainId: chain_id, rowsChecked: Number(r?.rows_checked ?? 0), problem: r?.problem ?? null });
        if (r?.first_bad_seq !== null && r?.first_bad_seq !== undefined) problems.push(`audit chain ${chain_id}: seq ${r.first_bad_seq}: ${r.problem}`);
      }
      // The restored chains against the heads signed at backup time (and the anchors stored in it).
      if (options.anchorKey && manifest?.auditAnchors) {
        const db = drizzleOn(restored);
        for (const chainId of new Set([...ids.map((i) => i.chain_id), ...manifest.auditAnchors.map((a) => a.chainId)])) {
          const check = await checkAnchors(db, options.anchorKey, chainId, manifest.auditAnchors);
          for (const p of check.problems) problems.push(`audit chain ${chainId}: ${p}`);
        }
      }
    } finally {
      await restored.end();
    }
  } catch (err) {
    problems.push(`restore failed: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err)}`);
  } finally {
    if (!options.keep) await dropDatabase(scratchUrl).catch(() => undefined);
  }
  return { ok: problems.length === 0, scratchDatabase: scratch, checksumOk, tables, chains, problems };
}

/** Restores a backup over `databaseUrl` (drops and recreates it): the rollback path of deploy.sh. */
export async function restoreBackup(options: { path: string; databaseUrl: string }): Promise<void> {
  const expected = (await readFile(`${options.path}.sha256`, 'utf8')).split(/\s/)[0];
  if (expected !== (await sha256File(options.path))) throw new Error(`checksum mismatch for ${options.path}; refusing to restore`);
  await dropDatabase(options.databaseUrl);
  await ensureDatabase(options.databaseUrl);
  await run('pg_restore', ['--exit-on-error', '-d', options.databaseUrl, options.path], { env: pgEnv(), maxBuffer: 16 * 1024 * 1024 });
}
