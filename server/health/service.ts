import { readdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

export interface Readiness {
  ok: boolean;
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
 * What the load balancer asks before sending traffic: Postgres, Redis, and migrations current.
 * The worker's heartbeat is reported too, but does not make a server unready: a server without a
 * worker still delivers alerts, and taking every server out would make things worse.
 */
export async function checkReadiness(deps: Pick<AppDeps, 'db' | 'redis' | 'config'>): Promise<Readiness> {
  const [postgres, redis, migrations, worker] = await Promise.all([
    timed(async () => {
      await deps.db.execute(sql`SELECT 1`);
      return undefined;
    }),
    timed(async () => {
      // A fail-fast client refuses commands until connected: right after start-up, give it the check's budget.
      if (deps.redis.status !== 'ready') await readyWithin(deps.redis, 1_500);
      const pong = await deps.redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
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
  return { ok: postgres.ok && redis.ok && migrations.ok, checks: { postgres, redis, migrations, worker } };
}
