import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBackupStatus, registerBackupGauges } from '../../server/ops/backup-status.js';
import { listBackups, verifyBackup } from '../../server/ops/backup.js';
import { backupInProgress, backupProcessor } from '../../worker/processors/backup.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { seedTenants } from '../support/tenants.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'clarion-backups-'));
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({ BACKUP_DIR: dir, BACKUP_KEEP: '2' });
  await seedTenants(env);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function scheduledBackup(): Promise<void> {
  expect(await backupProcessor.run(env.deps, {}, env.deps.log)).toEqual({ started: true });
  await backupInProgress();
}

describe('scheduled backups (worker maintenance job)', () => {
  it('takes a backup, verifies it by restoring into a scratch database, keeps the newest N, and records its age', async () => {
    const registry = new Registry();
    registerBackupGauges(env.deps, registry);
    expect((await registry.getSingleMetricAsString('clarion_backup_age_seconds')).trim().split('\n').at(-1)).toBe('clarion_backup_age_seconds -1');

    for (let i = 0; i < 3; i++) await scheduledBackup();
    const kept = await listBackups(dir);
    expect(kept).toHaveLength(2);
    for (const f of kept) {
      const [sum, name] = readFileSync(join(dir, `${f}.sha256`), 'utf8').trim().split(/\s+/);
      expect(name).toBe(f);
      expect(sum).toMatch(/^[0-9a-f]{64}$/);
    }
    const status = await readBackupStatus(env.deps);
    expect(status?.file).toBe(kept[0]);
    expect(JSON.parse(readFileSync(join(dir, 'last-success.json'), 'utf8')).file).toBe(kept[0]);
    const age = await registry.getSingleMetricAsString('clarion_backup_age_seconds');
    expect(Number(age.trim().split(' ').at(-1))).toBeGreaterThanOrEqual(0);
    expect(Number(age.trim().split(' ').at(-1))).toBeLessThan(60);
    // No scratch database is left behind.
    const { rows } = await env.deps.pool.query("SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'clarion_verify_%'");
    expect(rows[0].n).toBe(0);
  }, 60_000);

  it('restore-verify compares row counts and audit chains, and refuses a file that changed', async () => {
    const [newest] = await listBackups(dir);
    const path = join(dir, newest as string);
    const ok = await verifyBackup({ path, databaseUrl: env.databaseUrl });
    expect(ok.problems).toEqual([]);
    expect(ok.tables.find((t) => t.table === 'users')?.restored).toBe(14);
    expect(ok.chains.length).toBeGreaterThanOrEqual(2);
    expect(ok.chains.every((c) => c.rowsChecked > 0 && c.problem === null)).toBe(true);

    appendFileSync(path, 'tampered');
    const bad = await verifyBackup({ path, databaseUrl: env.databaseUrl });
    expect(bad.ok).toBe(false);
    expect(bad.problems.join()).toMatch(/checksum mismatch/);
  }, 60_000);

  it('restore-verify catches a tampered audit chain in the backed-up database', async () => {
    // Play the attacker as superuser (DESIGN.md allows tests to): change one audit row, bypassing triggers.
    const client = await env.deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL session_replication_role = 'replica'");
      await client.query("UPDATE audit_logs SET action = 'tampered' WHERE id = (SELECT id FROM audit_logs ORDER BY seq LIMIT 1)");
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const { stdout, stderr } = await run('bash', [join(root, 'scripts/backup.sh'), '--verify'], { env: { ...process.env, ...env.childEnv, BACKUP_DIR: dir, BACKUP_KEEP: '5' } }).catch((e) => e);
    expect(`${stdout}${stderr}`).toMatch(/VERIFY FAILED[\s\S]*audit chain .*modified/);
    expect(readdirSync(dir).some((f) => f.endsWith('.dump.json'))).toBe(true);
  }, 60_000);
});
