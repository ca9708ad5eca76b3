import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestEnv } from '../support/env.js';
import { createOutageEnv, type OutageEnv } from '../support/outage.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';

// Issue 13 item 4: a Redis outage is one Clarion rides through (Postgres tick, sweeper on the worker's
// own timer), so /readyz must not take every server out of the load balancer during it. A PRIVATE
// redis-server is stopped here; the machine's shared one is never touched.
let outage: OutageEnv;
let env: TestEnv;
let server: TestServer;

beforeAll(async () => {
  outage = await createOutageEnv();
  env = outage.env;
  server = await startTestServer(env);
});

const readyz = async () => {
  const started = performance.now();
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, body: await res.json(), ms: performance.now() - started };
};

describe('/readyz during a Redis outage', () => {
  it('answers 200 with redis "degraded", promptly, and 503 again only for Postgres or migrations', async () => {
    const before = await readyz();
    expect(before.status).toBe(200);
    expect(before.body.ok).toBe(true);

    await outage.stopRedis();
    await new Promise((r) => setTimeout(r, 300));
    const during = await readyz();
    expect(during.status, JSON.stringify(during.body)).toBe(200);
    expect(before.body.redis).toBe('ok');
    expect(during.body).toMatchObject({ ok: true, status: 'degraded', redis: 'degraded' });
    expect(during.body.checks.redis.ok).toBe(false);
    expect(during.body.checks.postgres.ok).toBe(true);
    // A probe with a 1 s timeout (Kubernetes' default) must get its answer.
    expect(during.ms).toBeLessThan(1_000);
    expect(await clientFor(server).health.check.query()).toMatchObject({ status: 'degraded' });

    // Pending migrations still make the server unready, Redis or not.
    const { rows } = await env.deps.db.execute<{ id: number; name: string; checksum: string }>(sql`SELECT id, name, checksum FROM clarion_migrations ORDER BY id DESC LIMIT 1`);
    const last = rows[0]!;
    await env.deps.db.execute(sql`DELETE FROM clarion_migrations WHERE id = ${last.id}`);
    try {
      const pending = await readyz();
      expect(pending.status).toBe(503);
      expect(pending.body.ok).toBe(false);
      expect(pending.body.checks.migrations.ok).toBe(false);
    } finally {
      await env.deps.db.execute(sql`INSERT INTO clarion_migrations (id, name, checksum) VALUES (${last.id}, ${last.name}, ${last.checksum})`);
    }

    await outage.startRedis();
    await new Promise((r) => setTimeout(r, 2_500)); // the fail-fast client reconnects (back-off up to 2 s)
    const after = await readyz();
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ ok: true, status: 'ok', redis: 'ok' });
  });

  it('still 503 when Postgres cannot be reached, with Redis down too', async () => {
    const { createDatabase, createPool } = await import('../../server/db/client.js');
    const { checkReadiness } = await import('../../server/health/service.js');
    const deadPool = createPool(env.config, { url: 'postgres://postgres@127.0.0.1:1/none', max: 1 });
    await outage.stopRedis();
    try {
      const ready = await checkReadiness({ ...env.deps, db: createDatabase(deadPool) });
      expect(ready.ok).toBe(false);
      expect(ready.checks.postgres?.ok).toBe(false);
    } finally {
      await deadPool.end();
    }
  });
});
