// Makes sure Postgres and Redis answer, starting the local ones where they are installed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../server/config.js';
import { maintenanceUrl } from '../server/db/admin.js';

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: maintenanceUrl(url), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(config: Config): Promise<boolean> {
  const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function waitFor(check: () => Promise<boolean>, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 4; i++) {
    if (await check()) return true;
    await sleep(250);
  }
  return false;
}

const isLocal = (host: string) => ['127.0.0.1', 'localhost', '::1'].includes(host);

function tryRun(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function ensureServices(config: Config): Promise<void> {
  const problems: string[] = [];
  if (!(await postgresAnswers(config.database.url))) {
    const host = new URL(config.database.url).hostname;
    let started = false;
    if (isLocal(host) && existsSync('/etc/postgresql')) {
      const version = readdirSync('/etc/postgresql')[0];
      console.log(`Postgres is not answering; starting the local cluster ${version}/main`);
      started = !!version && tryRun('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']) && (await waitFor(() => postgresAnswers(config.database.url), 20));
    }
    if (!started) problems.push(`Postgres at ${host} does not answer. Start it (pg_ctlcluster <version> main start), or, with Docker, run \`docker-compose -f docker-compose.dev.yml up -d\`.`);
  }
  if (!(await redisAnswers(config))) {
    let started = false;
    if (isLocal(config.redis.host) && tryRun('which', ['redis-server'])) {
      console.log('Redis is not answering; starting a local redis-server');
      started =
        tryRun('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(config.redis.port), '--save', '', '--appendonly', 'no']) &&
        (await waitFor(() => redisAnswers(config), 10));
    }
    if (!started) problems.push(`Redis at ${config.redis.host}:${config.redis.port} does not answer. Start it (redis-server --daemonize yes), or, with Docker, run \`docker-compose -f docker-compose.dev.yml up -d\`.`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
}
