// npm start: the whole system for a newcomer — services, database, migrations, demo data, web build,
// one server and the worker — then prints where to open it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../server/config.js';
import { ensureDatabase } from '../server/db/admin.js';
import { createDatabase, createPool } from '../server/db/client.js';
import { migrateUp } from '../server/db/migrator.js';
import { hospitals } from '../server/db/schema.js';
import { DEV_PASSWORD, devAccounts, devEmail, devHospitals, seedDevelopment } from '../server/db/seed-dev.js';
import { ensureServices } from './services.js';

const root = new URL('..', import.meta.url).pathname;
const children: ChildProcess[] = [];

function launch(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(process.stdout.isTTY ? { CLARION_LOG_PRETTY: '1' } : {}) } });
  const tag = `[${name}] `;
  const relay = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) stream.write(tag + line + '\n');
  };
  child.stdout?.on('data', relay(process.stdout));
  child.stderr?.on('data', relay(process.stderr));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code: number): Promise<void> {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  await sleep(1_500);
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
      const r = await seedDevelopment(db);
      console.log(`seeded demo data: ${r.hospitals} hospitals, ${r.users} users, ${r.alerts} alerts`);
    }
  } finally {
    await pool.end();
  }
  if (!existsSync(`${root}web/dist/index.html`) || process.env.CLARION_REBUILD_WEB !== '0') {
    console.log('building the web app…');
    await new Promise<void>((resolve, reject) =>
      spawn(process.execPath, [`${root}node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' }).on('exit', (c) =>
        c === 0 ? resolve() : reject(new Error('web build failed')),
      ),
    );
  }
  launch('server', ['server/main.ts']);
  launch('worker', ['worker/main.ts']);

  const url = `http://localhost:${config.port}`;
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) {
      console.log(`\nClarion is running: open ${url}\n`);
      if (!config.isProduction) {
        console.log(`Demo logins (password ${DEV_PASSWORD}):`);
        for (const h of devHospitals) console.log(`  ${h.name}: ${devAccounts.map((a) => devEmail(a.local, h.slug)).join(', ')}`);
      }
      console.log('\nPress Ctrl+C to stop.');
      return;
    }
    await sleep(500);
  }
  console.error(`the server did not become ready at ${url}/readyz within a minute`);
  await stop(1);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  void stop(1);
});
