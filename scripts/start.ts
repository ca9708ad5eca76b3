// npm start: the whole system for a newcomer — services, database, migrations, demo data, web build,
// one server and the worker — then prints where to open it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../server/config.js';
import { ensureDatabase } from '../server/db/admin.js';
import { createDatabase, createPool } from '../server/db/client.js';
import { migrateUp } from '../server/db/migrator.js';
import { hospitals } from '../server/db/schema.js';
import { DEV_PASSWORD, devAccounts, devEmail, devHospitals, seedDevelopmentWith } from '../server/seed/dev.js';
import { ensureServices } from './services.js';

const root = new URL('..', import.meta.url).pathname;
const guard = new URL('./start-child-guard.mjs', import.meta.url).href;
const children = new Set<ChildProcess>();

/** Readable logs in development whatever our output is (a terminal, a pipe, a file); CLARION_LOG_PRETTY=0 keeps JSON. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  env.CLARION_LOG_PRETTY ??= '1';
  if (process.stdout.isTTY && !env.NO_COLOR) env.FORCE_COLOR ??= '1';
  return env;
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function launch(name: string, args: string[]): ChildProcess {
  // The IPC channel ('ipc') is how the child notices that we are gone (see start-child-guard.mjs).
  const child = track(spawn(process.execPath, ['--import', 'tsx', '--import', guard, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: childEnv() }));
  const relay = (from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream) => {
    if (from) createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => to.write(`[${name}] ${line}\n`));
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  return child;
}

let stopping = false;
/** SIGTERM to every child, then wait for them (their own graceful shutdown), SIGKILL after 15 s. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exited = [...children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
  for (const c of children) c.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
  }, 15_000);
  await Promise.all(exited);
  clearTimeout(force);
  process.exit(code);
}

async function main(): Promise<void> {
  const config = loadConfig();
  await ensureServices(config);
  if (await ensureDatabase(config.database.url)) console.log('created the database');
  const pool = createPool(config, { max: 2 });
  try {
    const ran = await migrateUp(pool, `${root}migrations`);
    console.log(ran.length ? `applied ${ran.length} migration(s)` : 'database schema is current');
    const db = createDatabase(pool);
    const [any] = await db.select({ id: hospitals.id }).from(hospitals).limit(1);
    if (!any && !config.isProduction) {
      const r = await seedDevelopmentWith(config);
      console.log(`seeded demo data: ${r.hospitals} hospitals, ${r.users} users, ${r.alerts} alerts`);
    }
  } finally {
    await pool.end();
  }
  const webDir = resolve(root, config.webDistDir);
  if (!existsSync(`${webDir}/index.html`) || process.env.CLARION_REBUILD_WEB !== '0') {
    console.log('building the web app…');
    await new Promise<void>((resolve, reject) =>
      track(spawn(process.execPath, [`${root}node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn', '--outDir', webDir], { cwd: root, stdio: 'inherit' })).on('exit', (c) =>
        c === 0 ? resolve() : reject(new Error('web build failed')),
      ),
    );
  }
  launch('server', ['server/main.ts']);
  launch('worker', ['worker/main.ts']);

  const url = `http://localhost:${config.port}`;
  for (let i = 0; i < 120 && !stopping; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) {
      console.log(`\nClarion is running: open ${url}\n`);
      if (!config.isProduction) {
        console.log(`Demo logins (password ${DEV_PASSWORD}):`);
        for (const h of devHospitals) console.log(`  ${h.name}: ${devAccounts.map((a) => devEmail(a.local, h.slug)).join(', ')}`);
      }
      console.log(`\nPress Ctrl+C to stop (from another shell: kill ${process.pid}); the server and worker stop with it.`);
      return;
    }
    await sleep(500);
  }
  console.error(`the server did not become ready at ${url}/readyz within a minute`);
  await stop(1);
}

// Ctrl+C, a parent's SIGTERM (npm forwards it; the start script execs us so nothing sits in between) and
// a closed terminal all stop the children first.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
// npm itself killed (SIGKILL, or a SIGHUP npm does not forward): we are re-parented, so stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 1_000).unref();
main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  void stop(1);
});
