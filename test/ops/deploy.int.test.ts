import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, LOG_DIR, type TestEnv } from '../support/env.js';
import { seedTenants } from '../support/tenants.js';

// deploy.sh against this file's scratch database and a server it starts itself on a free port, with a
// copy of the migrations plus deliberately bad ones: the deployment must roll back and leave the
// service answering /readyz on the previous schema.

const root = new URL('../..', import.meta.url).pathname;
let env: TestEnv;
let work: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function deploy(script: string, extra: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(root, 'scripts', script)], { env: { ...process.env, ...env.childEnv, ...extra }, timeout: 140_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

async function applied(): Promise<number> {
  const { rows } = await env.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM clarion_migrations');
  return rows[0]?.n ?? -1;
}

// Other work adds migrations: number ours after whatever the repository has, and expect its count.
const repoMigrations = readdirSync(join(root, 'migrations')).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f));
const shipped = repoMigrations.length;
const nextNumber = (offset: number) => String(Math.max(...repoMigrations.map((f) => Number(f.slice(0, 4)))) + offset).padStart(4, '0');

/** A copy of the migrations plus extra ones: `{ name: [up, down] }`, numbered after the last shipped one. */
function migrationsWith(extra: Record<string, [string, string]>): { dir: string; names: string[] } {
  const dir = mkdtempSync(join(work, 'migrations-'));
  cpSync(join(root, 'migrations'), dir, { recursive: true });
  const names = Object.entries(extra).map(([name, [up, down]], i) => {
    const full = `${nextNumber(i + 1)}_${name}`;
    writeFileSync(join(dir, `${full}.sql`), up);
    writeFileSync(join(dir, `${full}.down.sql`), down);
    return full;
  });
  return { dir, names };
}

let settings: Record<string, string>;

beforeAll(async () => {
  env = await createTestEnv();
  await seedTenants(env);
  work = mkdtempSync(join(tmpdir(), 'clarion-deploy-'));
  const port = await freePort();
  settings = {
    PORT: String(port),
    HOST: '127.0.0.1',
    BACKUP_DIR: join(work, 'backups'),
    DEPLOY_PID_FILE: join(work, 'server.pid'),
    DEPLOY_LOG_FILE: join(LOG_DIR, `deploy-server.${port}.ndjson`),
    DEPLOY_STATE_DIR: join(work, 'state'),
    DEPLOY_HEALTH_TIMEOUT: '40',
  };
});

afterAll(() => {
  try {
    process.kill(Number(readFileSync(settings.DEPLOY_PID_FILE as string, 'utf8')), 'SIGTERM');
  } catch {
    // not running
  }
  rmSync(work, { recursive: true, force: true });
});

describe('scripts/deploy.sh', () => {
  it('a migration that fails rolls back the ones applied before it, and the service answers /readyz', async () => {
    const { dir, names } = migrationsWith({
      ops_good: ['CREATE TABLE ops_deploy_probe (id int PRIMARY KEY);', 'DROP TABLE ops_deploy_probe;'],
      ops_broken: ['ALTER TABLE no_such_table ADD COLUMN x int;', 'SELECT 1;'],
    });
    const { code, out } = await deploy('deploy.sh', { ...settings, MIGRATIONS_DIR: dir });
    expect(code, out).toBe(1);
    expect(out).toContain(`pending      ${names[0]}`);
    expect(out).toMatch(/DEPLOYMENT FAILED \(migration failed\)/);
    expect(out).toMatch(/rolled back; service healthy/);
    expect(await applied()).toBe(shipped);
    const { rows } = await env.deps.pool.query("SELECT to_regclass('ops_deploy_probe') AS t");
    expect(rows[0].t).toBeNull();
    const res = await fetch(`http://127.0.0.1:${settings.PORT}/readyz`);
    expect(res.status).toBe(200);
    // The pre-deployment backup exists with its checksum and manifest.
    expect(out).toMatch(/backup: .*clarion-\d{8}T\d{6}(\.\d{3})?Z-predeploy\.dump/);
  }, 150_000);

  it('a migration that applies but leaves the service unready is rolled back and the backup restored', async () => {
    // A migration the running code does not know: /readyz reports "N+1 of N migrations applied".
    const { dir } = migrationsWith({ ops_unknown: ['CREATE TABLE ops_unknown (id int);', 'DROP TABLE ops_unknown;'] });
    const before = await env.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs');
    const { code, out } = await deploy('deploy.sh', { ...settings, MIGRATIONS_DIR: dir, DEPLOY_RESTORE_ON_ROLLBACK: 'always', DEPLOY_HEALTH_TIMEOUT: '15' });
    expect(code, out).toBe(1);
    expect(out).toMatch(new RegExp(`health check FAILED: .*${shipped + 1} of ${shipped} migrations applied`));
    expect(out).toMatch(/restoring backup/);
    expect(out).toMatch(/rolled back; service healthy/);
    expect(await applied()).toBe(shipped);
    const after = await env.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
    expect((await fetch(`http://127.0.0.1:${settings.PORT}/readyz`)).status).toBe(200);
  }, 150_000);

  it('rollback.sh rolls back the last deployment by hand and verifies health', async () => {
    const { code, out } = await deploy('rollback.sh', settings);
    expect(code, out).toBe(0);
    expect(out).toMatch(/rolled back; service healthy/);
  }, 60_000);
});
