import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIsStale } from '../../load-tests/harness/build.js';
import { freePort } from '../../scripts/fault-lib.js';
import { dropDatabase, withDatabase } from '../../server/db/admin.js';
import { BASE_URL } from '../support/global-setup.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

// Issue 14: production and the benchmarks run compiled JavaScript with plain `node` (no tsx loader).
// The build goes to a directory of this file's own (the same script `npm run build:server` runs), so it
// never swaps dist/ under a load-harness test running from it in parallel.

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const out = `test-artifacts/build-${randomBytes(3).toString('hex')}`;
const outDir = join(root, out);
let env: TestEnv;
const started: ChildProcess[] = [];
// Without tsx anywhere: a leftover NODE_OPTIONS=--import tsx would hide a build that only runs with it.
const { NODE_OPTIONS: _drop, ...baseEnv } = process.env;

beforeAll(async () => {
  env = await createTestEnv();
  await run(process.execPath, ['scripts/build-server.mjs', out], { cwd: root }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`build failed:\n${err.stdout}\n${err.stderr}`);
  });
}, 90_000);
afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(outDir, { recursive: true, force: true });
});

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('npm run build:server', () => {
  it('is what npm run build (and so npm test) runs, and the production scripts use its output', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['build:server']).toContain('scripts/build-server.mjs');
    expect(scripts.build).toContain('build:server');
    expect(scripts['server:prod']).toBe('node dist/server/main.js');
    expect(scripts['worker:prod']).toBe('node dist/worker/main.js');
    const docker = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(docker).toMatch(/^CMD \["node", "dist\/server\/main\.js"\]$/m);
    expect(docker).not.toMatch(/--import", "tsx|\.ts"/);
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toMatch(/command: \["node", "dist\/server\/main\.js"\]/);
    expect(compose).not.toMatch(/"tsx"/);
  });

  it('emits plain JS for server, worker and the operational scripts, the migrations, and no source maps', () => {
    const all = files(outDir);
    for (const f of ['server/main.js', 'worker/main.js', 'scripts/migrate.js', 'scripts/seed.js', 'scripts/admin.js', 'scripts/audit-verify.js', 'scripts/backup.js', 'scripts/restore-verify.js']) {
      expect(all, f).toContain(f);
    }
    expect(all.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(all.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(all.filter((f) => f.endsWith('.test.js'))).toEqual([]);
    expect(readFileSync(join(outDir, 'server/main.js'), 'utf8')).not.toMatch(/sourceMappingURL/);
    const sql = readdirSync(join(root, 'migrations')).filter((f) => f.endsWith('.sql'));
    expect(readdirSync(join(outDir, 'migrations')).sort()).toEqual(sql.sort());
  });

  it('the compiled migrate script applies every migration to an empty database', async () => {
    const url = withDatabase(BASE_URL, `clarion_build_${randomBytes(3).toString('hex')}`);
    try {
      const childEnv = { ...baseEnv, ...env.childEnv, DATABASE_URL: url };
      const up = await run(process.execPath, [join(outDir, 'scripts/migrate.js'), 'up'], { cwd: root, env: childEnv });
      expect(up.stdout).toMatch(/applied \d+ migration\(s\)/);
      const status = await run(process.execPath, [join(outDir, 'scripts/migrate.js'), 'status'], { cwd: root, env: childEnv });
      expect(status.stdout).toMatch(/ 0 pending/);
      expect(status.stdout).not.toMatch(/^pending/m);
    } finally {
      await dropDatabase(url);
    }
  }, 30_000);

  it('node <build>/server/main.js serves /healthz and is ready (its migration count read from the build)', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [join(outDir, 'server/main.js')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...baseEnv, ...env.childEnv, PORT: String(port) },
    });
    started.push(proc);
    let output = '';
    proc.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const deadline = Date.now() + 20_000;
    let health: Response | undefined;
    while (!health?.ok) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`compiled server did not come up:\n${output}`);
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (!health?.ok) await new Promise((r) => setTimeout(r, 200));
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status, await ready.text()).toBe(200);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }, 40_000);
});

describe('the load harness runs the compiled server, rebuilding a stale dist/', () => {
  it('counts dist/ stale when missing or older than a source (tests excluded), fresh otherwise', () => {
    const fake = join(outDir, 'stale-root');
    const touch = (f: string, secondsAgo: number) => {
      mkdirSync(join(fake, f, '..'), { recursive: true });
      writeFileSync(join(fake, f), '');
      const t = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(join(fake, f), t, t);
    };
    touch('server/a.ts', 100);
    touch('migrations/0000_x.sql', 100);
    expect(buildIsStale(fake)).toBe(true);
    touch('dist/server/main.js', 50);
    touch('dist/worker/main.js', 50);
    expect(buildIsStale(fake)).toBe(false);
    touch('server/a.test.ts', 10);
    expect(buildIsStale(fake)).toBe(false);
    touch('migrations/0001_y.sql', 10);
    expect(buildIsStale(fake)).toBe(true);
  });
});
