// Shared by the fault-injection scenarios (scripts/fault-*.ts, run by `npm run fault`). Everything runs
// on PRIVATE services so the machine's shared Postgres and Redis are never restarted: a Postgres cluster
// initialised under /tmp on its own port, a redis-server on its own port, and real server and worker
// processes (node --import tsx) on free ports.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import { Redis } from 'ioredis';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createSession } from '../server/auth/sessions.js';
import { loadConfig } from '../server/config.js';
import { createDatabase } from '../server/db/client.js';
import { migrateUp } from '../server/db/migrator.js';
import { seedDevelopmentWith } from '../server/seed/dev.js';
import type { AppRouter } from '../server/router.js';

export const ROOT = new URL('..', import.meta.url).pathname;
const PG_BIN = '/usr/lib/postgresql/15/bin';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (msg: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A Postgres cluster of our own under /tmp (initdb as the postgres user), so it can be restarted. */
export class PrivatePostgres {
  readonly dir: string;
  constructor(readonly port: number) {
    this.dir = `/tmp/clarion-fault-pg-${port}`;
  }
  private asPostgres(cmd: string, args: string[]): void {
    const root = process.getuid?.() === 0;
    execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'ignore' });
  }
  async init(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', this.dir]);
    this.asPostgres(`${PG_BIN}/initdb`, ['-D', `${this.dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await this.start();
  }
  async start(): Promise<void> {
    this.asPostgres(`${PG_BIN}/pg_ctl`, ['-D', `${this.dir}/data`, '-l', `${this.dir}/log`, '-w', '-o', `-p ${this.port} -k ${this.dir} -c fsync=off -c max_connections=300`, 'start']);
  }
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.asPostgres(`${PG_BIN}/pg_ctl`, ['-D', `${this.dir}/data`, '-m', mode, '-w', 'stop']);
  }
  destroy(): void {
    try {
      this.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
  url(db = 'clarion_fault'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }
}

/** A redis-server of our own (no persistence): restarting it loses every key, BullMQ's included. */
export class PrivateRedis {
  proc?: ChildProcess;
  constructor(readonly port: number) {}
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
    const r = new Redis({ port: this.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    await until('redis', async () => {
      await r.connect().catch(() => undefined);
      return (await r.ping()) === 'PONG';
    });
    r.disconnect();
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
  }
  url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }
}

/** A server or worker process. */
export class Proc {
  proc?: ChildProcess;
  constructor(
    readonly kind: 'server' | 'worker',
    readonly env: Record<string, string>,
    readonly port = 0,
  ) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/trpc`;
  }
  async start(): Promise<void> {
    const logFile = `${ROOT}test-artifacts/fault/${this.kind}-${this.port || 'worker'}.ndjson`;
    mkdirSync(`${ROOT}test-artifacts/fault`, { recursive: true });
    const out = openSync(logFile, 'a');
    this.proc = spawn(process.execPath, ['--import', 'tsx', `${this.kind}/main.ts`], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', out, out],
    });
    if (this.kind === 'server') await until(`server :${this.port}`, async () => (await fetch(`${this.url}/healthz`)).ok);
    else await sleep(2_500);
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode) return;
    p.kill(signal);
    await new Promise((r) => p.once('exit', r));
  }
}

export interface Stack {
  pg: PrivatePostgres;
  redis: PrivateRedis;
  env: Record<string, string>;
  pool: pg.Pool;
  hospitalId: string;
  departmentIds: string[];
  token(email: string): Promise<string>;
  close(): Promise<void>;
}

/** A private Postgres (migrated, seeded) and Redis, and the environment for server and worker processes. */
export async function createStack(): Promise<Stack> {
  const pgPort = await freePort();
  const pgServer = new PrivatePostgres(pgPort);
  await pgServer.init();
  const admin = new pg.Client({ connectionString: pgServer.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE clarion_fault');
  await admin.end();
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  const env = {
    CLARION_ENV: 'test',
    DATABASE_URL: pgServer.url(),
    REDIS_URL: redis.url(),
    REDIS_KEY_PREFIX: 'clarion_fault',
    LOG_LEVEL: 'info',
    DB_POOL_MAX: '10',
    SWEEP_INTERVAL_MS: '1000',
  };
  const pool = new pg.Pool({ connectionString: pgServer.url(), max: 4 });
  pool.on('error', () => undefined);
  await migrateUp(pool, `${ROOT}migrations`);
  await seedDevelopmentWith(loadConfig(env));
  // Fast escalation for the scenarios: critical alerts escalate after 2 s at each of three levels.
  await pool.query(`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,critical,levelTimeoutsSeconds}', '[2,2,2]') WHERE slug = 'general'`);
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM hospitals WHERE slug = 'general'");
  const hospitalId = rows[0]?.id as string;
  const { rows: depts } = await pool.query<{ id: string }>('SELECT id FROM departments WHERE hospital_id = $1 ORDER BY code', [hospitalId]);
  loadConfig(env); // fail early on a bad environment
  return {
    pg: pgServer,
    redis,
    env,
    pool,
    hospitalId,
    departmentIds: depts.map((d) => d.id),
    async token(email) {
      const { rows: u } = await pool.query<{ id: string; hospital_id: string }>('SELECT id, hospital_id FROM users WHERE email = $1', [email]);
      const user = u[0] as { id: string; hospital_id: string };
      const { token } = await createSession(createDatabase(pool), { userId: user.id, hospitalId: user.hospital_id, hours: 12, ip: '127.0.0.1', userAgent: 'fault', twoFactorVerified: true });
      return token;
    },
    async close() {
      await pool.end().catch(() => undefined);
      await redis.stop();
      pgServer.destroy();
    },
  };
}

export function apiClient(url: string, token: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } })] });
}

export interface Subscriber {
  received: Map<string, number>;
  errors: string[];
  close(): void;
}

/** One board: a WebSocket client whose url is a function (it reconnects to whichever instance is alive). */
export function subscribe(url: () => string, token: string, lastEventId: string): Subscriber {
  const received = new Map<string, number>();
  const errors: string[] = [];
  const ws = createWSClient({ url, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, connectionParams: { token }, retryDelayMs: () => 200 });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  const sub = client.alerts.onEvent.subscribe({ lastEventId }, {
    onData: (d) => {
      const id = (d as { id: string }).id;
      received.set(id, (received.get(id) ?? 0) + 1);
    },
    onError: (err) => errors.push(err.message),
  });
  return {
    received,
    errors,
    close() {
      sub.unsubscribe();
      ws.close();
    },
  };
}

export interface Tally {
  expected: number;
  received: number;
  duplicated: number;
  lost: number;
}

/** Events every subscriber should have had (the hospital's event log after `afterId`) against what each got. */
export async function tally(pool: pg.Pool, hospitalId: string, afterId: string, subs: Subscriber[]): Promise<Tally & { expectedIds: string[] }> {
  const { rows } = await pool.query<{ id: string }>('SELECT id::text FROM alert_events WHERE hospital_id = $1 AND id > $2 ORDER BY id', [hospitalId, afterId]);
  const ids = rows.map((r) => r.id);
  const t: Tally = { expected: ids.length * subs.length, received: 0, duplicated: 0, lost: 0 };
  for (const s of subs) {
    for (const id of ids) {
      const n = s.received.get(id) ?? 0;
      if (n === 0) t.lost++;
      else t.received++;
      if (n > 1) t.duplicated += n - 1;
    }
  }
  return { ...t, expectedIds: ids };
}

export async function waitForDelivery(pool: pg.Pool, hospitalId: string, afterId: string, subs: Subscriber[], ms: number): Promise<Tally> {
  const deadline = Date.now() + ms;
  let t = await tally(pool, hospitalId, afterId, subs);
  while (t.lost > 0 && Date.now() < deadline) {
    await sleep(250);
    t = await tally(pool, hospitalId, afterId, subs);
  }
  const { expectedIds: _ids, ...rest } = t;
  const errors = [...new Set(subs.flatMap((s) => s.errors))].slice(0, 5);
  if (t.lost) log(`undelivered; subscriber errors: ${JSON.stringify(errors)}; first subscriber got ${subs[0]?.received.size ?? 0} events`);
  return rest;
}

/** The hospital's newest event id (a board's starting point, as alerts.getActive would give it). */
export async function lastEventId(pool: pg.Pool, hospitalId: string): Promise<string> {
  const { rows } = await pool.query<{ id: string | null }>('SELECT max(id)::text AS id FROM alert_events WHERE hospital_id = $1', [hospitalId]);
  return rows[0]?.id ?? '0';
}

/**
 * Two server instances and the worker, with `subscribers` head-doctor boards spread over both and
 * subscribed from the current end of the event log: the common start of the restart scenarios.
 */
export async function startServersWithBoards(stack: Stack, subscribers: number) {
  const a = new Proc('server', stack.env, await freePort());
  const b = new Proc('server', stack.env, await freePort());
  const worker = new Proc('worker', stack.env);
  await Promise.all([a.start(), b.start(), worker.start()]);
  let n = 0;
  const url = () => (n++ % 2 ? b.wsUrl : a.wsUrl);
  const start = await lastEventId(stack.pool, stack.hospitalId);
  const subs: Subscriber[] = await Promise.all(Array.from({ length: subscribers }, async () => subscribe(url, await stack.token('head@general.test'), start)));
  await sleep(1_500);
  return { a, b, worker, start, subs };
}
