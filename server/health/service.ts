import { readdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

export interface Readiness {
  /** Whether a load balancer should send this server traffic: Postgres reachable and migrations current. */
  ok: boolean;
  /** `degraded`: ready, but Redis (or the worker) is down, which Clarion rides through. */
  status: 'ok' | 'degraded' | 'unavailable';
  redis: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean; detail?: string; ms: number }>;
}

const MIGRATIONS_DIR = new URL('../../migrations', import.meta.url).pathname;
const expectedMigrations = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).length;

async function timed(fn: () => Promise<string | undefined>): Promise<{ ok: boolean; detail?: string; ms: number }> {
  const started = performance.now();
  try {
    const detail = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 2s')), 2_000).unref()),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started), ...(detail ? { detail } : {}) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - started), detail: err instanceof Error ? err.message : String(err) };
  }
}

// Clients that have been connected once: while one of them reconnects, Redis is down, not starting.
const everReady = new WeakSet<AppDeps['redis']>();

function readyWithin(redis: AppDeps['redis'], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.on('ready', done);
  });
}

/**
 * What the load balancer asks before sending traffic: Postgres reachable and migrations current.
 * Redis is reported (`redis: "degraded"`) but does not make a server unready: live delivery falls back
 * to the Postgres tick, mutations never wait on Redis, and the worker's sweeper escalates on its own
 * timer, so taking every server out during a Redis outage would turn a degradation into downtime.
 * The worker's heartbeat is reported the same way (a server without a worker still delivers alerts).
 */
export async function checkReadiness(deps: Pick<AppDeps, 'db' | 'redis' | 'config'>): Promise<Readiness> {
  const [postgres, redis, migrations, worker] = await Promise.all([
    timed(async () => {
      await deps.db.execute(sql`SELECT 1`);
      return undefined;
    }),
    timed(async () => {
      if (deps.redis.status === 'ready') everReady.add(deps.redis);
      // A fail-fast client refuses commands until connected: right after start-up (never connected
      // yet), give it a moment. During an outage answer at once: a probe's timeout is often 1 s.
      else if (!everReady.has(deps.redis)) await readyWithin(deps.redis, 750);
      const pong = await deps.redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
      everReady.add(deps.redis);
      return undefined;
    }),
    timed(async () => {
      const { rows } = await deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM clarion_migrations`);
      const applied = rows[0]?.n ?? 0;
      if (applied !== expectedMigrations) throw new Error(`${applied} of ${expectedMigrations} migrations applied`);
      return `${applied} applied`;
    }),
    timed(async () => {
      const beat = await deps.redis.get(redisKey(deps.config.redis, 'worker', 'heartbeat'));
      if (!beat) throw new Error('no worker heartbeat in the last 30 s');
      return `last heartbeat ${beat}`;
    }),
  ]);
  const ok = postgres.ok && migrations.ok;
  return {
    ok,
    status: !ok ? 'unavailable' : redis.ok ? 'ok' : 'degraded',
    redis: redis.ok ? 'ok' : 'degraded',
    checks: { postgres, redis, migrations, worker },
  };
}
