import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';

let env: TestEnv;
let server: TestServer;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
});

describe('health endpoints', () => {
  it('/healthz answers while the process is alive', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks Postgres, Redis and migrations', async () => {
    const res = await fetch(`${server.url}/readyz`);
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(Object.keys(body.checks).sort()).toEqual(['migrations', 'postgres', 'redis', 'worker']);
    // No worker runs in this file: reported, but the server stays ready.
    expect(body.checks.worker.ok).toBe(false);
  });

  it('answers the tRPC health query over plain JSON HTTP', async () => {
    const res = await fetch(`${server.url}/trpc/health.check`);
    const body = await res.json();
    expect(body.result.data.status).toBe('ok');
    expect(await clientFor(server).health.check.query()).toMatchObject({ status: 'ok' });
  });

  it('answers 404 for unknown paths and procedures, never 500', async () => {
    // GET of an unknown path is the web app's (client-side routing); anything else is 404.
    expect((await fetch(`${server.url}/nope`, { method: 'POST' })).status).toBe(404);
    const res = await fetch(`${server.url}/trpc/no.such.procedure`);
    expect(res.status).toBe(404);
  });

  it('/readyz reports Postgres down when it cannot be reached', async () => {
    // A real pool pointed at a port where nothing listens: the check fails with the driver's own error.
    const { createDatabase, createPool } = await import('../../server/db/client.js');
    const { checkReadiness } = await import('../../server/health/service.js');
    const deadPool = createPool(env.config, { url: 'postgres://postgres@127.0.0.1:1/none', max: 1 });
    const ready = await checkReadiness({ ...env.deps, db: createDatabase(deadPool) });
    await deadPool.end();
    expect(ready.ok).toBe(false);
    expect(ready.checks.postgres?.ok).toBe(false);
    expect(ready.checks.redis?.ok).toBe(true);
  });
});

describe('/metrics', () => {
  it('exposes Prometheus metrics: procedures, events, pool, queues, sockets, process', async () => {
    await fetch(`${server.url}/trpc/health.check`);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    for (const name of [
      'clarion_trpc_procedure_duration_seconds_bucket{le="0.005",procedure="health.check",type="query",outcome="ok"}',
      'clarion_db_pool_connections{state="waiting"}',
      'clarion_queue_jobs',
      'clarion_websocket_connections',
      'clarion_alert_subscriptions',
      'clarion_event_delivery_latency_seconds_bucket',
      'clarion_events_published_total',
      'clarion_process_resident_memory_bytes',
      'clarion_backup_age_seconds',
      'clarion_db_query_duration_seconds_bucket',
      'clarion_db_slow_queries_total',
    ]) {
      expect(body, name).toContain(name);
    }
  });
});
