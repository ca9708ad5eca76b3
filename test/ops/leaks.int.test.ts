import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 13, item 17: the smaller leaks. /metrics behind a bearer token, /readyz without internal
// details, no source maps in production, no caching of API answers, no SQL parameters in logs.

const METRICS_TOKEN = 'metrics-token-for-the-leaks-test-0123456789';
let env: TestEnv;
let server: TestServer;
let tenants: Tenants;
let webDir: string;

beforeAll(async () => {
  webDir = mkdtempSync(join(tmpdir(), 'clarion-web-'));
  mkdirSync(join(webDir, 'assets'));
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Clarion</title>');
  writeFileSync(join(webDir, 'assets', 'index-abc123.js'), 'console.log(1);\n//# sourceMappingURL=index-abc123.js.map\n');
  writeFileSync(join(webDir, 'assets', 'index-abc123.js.map'), '{"version":3,"sources":["../src/secret-internals.tsx"]}');
  env = await createTestEnv({ METRICS_TOKEN, WEB_DIST_DIR: webDir });
  tenants = await seedTenants(env);
  server = await startTestServer(env);
});
afterAll(() => rmSync(webDir, { recursive: true, force: true }));

const production = (extra: Record<string, string> = {}) =>
  loadConfig({
    ...env.childEnv,
    CLARION_ENV: 'production',
    DB_SSL: 'disable',
    TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    TOKEN_SIGNING_SECRET: 'a-production-secret-that-is-long-enough-1234',
    AUDIT_ANCHOR_KEY: Buffer.alloc(32, 9).toString('base64'),
    WEB_DIST_DIR: webDir,
    METRICS_TOKEN: '',
    ...extra,
  });

/** A second server over the same database and Redis, but with a production configuration. */
async function productionServer(extra: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ ...env, deps: { ...env.deps, config: production(extra) } });
}

describe('/metrics needs the METRICS_TOKEN bearer token', () => {
  it('401 without a token or with a wrong one, 200 with the right one', async () => {
    const none = await fetch(`${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('clarion_');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    const prefix = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` } });
    expect(prefix.status).toBe(401);
    const right = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('clarion_trpc_procedure_duration_seconds');
  });

  it('a production server without METRICS_TOKEN keeps /metrics closed', async () => {
    const prod = await productionServer();
    expect((await fetch(`${prod.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${prod.url}/metrics`, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
    await prod.close();
  });

  it('a short METRICS_TOKEN is refused at start-up', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});

describe('/readyz', () => {
  it('answers the load balancer without internal details; the metrics token sees them', async () => {
    const anon = await fetch(`${server.url}/readyz`);
    expect(anon.status).toBe(200);
    const body = (await anon.json()) as { ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.ok).toBe(true);
    expect(Object.keys(body.checks)).toContain('postgres');
    // The worker check fails here (no worker): its detail would say why, with timestamps; anonymous callers get none.
    for (const [name, check] of Object.entries(body.checks)) expect(check.detail, name).toBeUndefined();
    const operator = (await (await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).json()) as typeof body;
    expect(operator.checks.migrations?.detail).toMatch(/applied/);
  });
});

describe('source maps', () => {
  it('the production web build writes none', async () => {
    const viteConfig = (await import('../../vite.config.js')).default as unknown;
    const resolve = typeof viteConfig === 'function' ? viteConfig : () => viteConfig;
    const built = resolve({ command: 'build', mode: 'production', isSsrBuild: false, isPreview: false }) as { build?: { sourcemap?: unknown } };
    expect(built.build?.sourcemap ?? false).toBe(false);
  });

  it('a production server does not serve .map files even when they are on disk', async () => {
    const prod = await productionServer();
    expect((await fetch(`${prod.url}/assets/index-abc123.js`)).status).toBe(200);
    const map = await fetch(`${prod.url}/assets/index-abc123.js.map`);
    expect(map.status).toBe(404);
    expect(await map.text()).not.toContain('secret-internals');
    await prod.close();
    // Development keeps them (debugging a local build).
    expect((await fetch(`${server.url}/assets/index-abc123.js.map`)).status).toBe(200);
  });
});

describe('Cache-Control: no-store on everything that can carry patient data', () => {
  it('every /trpc answer (query, batch, mutation, error) and export downloads', async () => {
    const token = await tenants.token('general', 'nurse.icu');
    const auth = { authorization: `Bearer ${token}` };
    const responses = [
      await fetch(`${server.url}/trpc/alerts.getActive`, { headers: auth }),
      await fetch(`${server.url}/trpc/alerts.getActive,auth.me?batch=1&input=${encodeURIComponent('{}')}`, { headers: auth }),
      await fetch(`${server.url}/trpc/auth.me`),
      await fetch(`${server.url}/trpc/auth.logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await fetch(`${server.url}/trpc/no.such`),
      await fetch(`${server.url}/exports/00000000-0000-0000-0000-000000000000/download`, { headers: auth }),
      await fetch(`${server.url}/exports/00000000-0000-0000-0000-000000000000/download`),
    ];
    for (const res of responses) expect(res.headers.get('cache-control'), `${res.url} ${res.status}`).toBe('no-store');
    expect(responses[0]?.status).toBe(200);
    // Static files may be cached: hashed assets for long, index.html revalidated.
    expect((await fetch(`${server.url}/assets/index-abc123.js`)).headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${server.url}/board`)).headers.get('cache-control')).toBe('no-cache');
  });
});

describe('a failed SQL statement is logged without its parameters', () => {
  it('neither the DrizzleQueryError nor its pg cause carries the value into the log', async () => {
    const lines: string[] = [];
    const log = createLogger(env.config, { write: (line: string) => void lines.push(line) });
    const marker = 'patient-jane-doe-4711';
    // A parameter Postgres cannot cast: pg's own message quotes it ('invalid input syntax … "patient-…"').
    const castErr = await env.deps.db.execute(sql`SELECT ${marker}::int AS n`).catch((e: unknown) => e);
    // A unique violation: pg's `detail` repeats the duplicate value ('Key (email)=(…) already exists').
    const email = `${marker}@general.test`;
    await env.deps.db.execute(sql`UPDATE users SET email = ${email} WHERE id = ${tenants.user('general', 'nurse.er').id}`);
    const dupErr = await env.deps.db.execute(sql`UPDATE users SET email = ${email} WHERE id = ${tenants.user('general', 'doctor.er').id}`).catch((e: unknown) => e);
    expect(castErr).toBeInstanceOf(Error);
    expect(String((castErr as Error).message)).toContain(marker);
    expect(dupErr).toBeInstanceOf(Error);
    log.error({ err: castErr }, 'procedure failed');
    log.error({ err: dupErr }, 'procedure failed');
    log.error(castErr as Error);
    log.error({ err: new Error('wrapped', { cause: dupErr }) }, 'outer');
    log.warn({ error: castErr }, 'other key');
    // Call sites that log only the message string.
    log.warn({ err: (castErr as Error).message }, 'periodic run failed');
    log.warn({ err: ((castErr as Error).cause as Error).message }, 'driver message only');
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).not.toContain(marker);
    // Still useful: the statement's shape and the failure stay.
    for (const line of lines.slice(0, 6)) expect(line).toContain('Failed query');
    expect(lines[6]).toContain('invalid input syntax for type integer');
    const first = JSON.parse(lines[0] as string) as { err: { params?: unknown; type: string; message: string; stack: string } };
    expect(first.err.type).toBe('DrizzleQueryError');
    expect(first.err.message).toContain('SELECT $1::int');
    expect(first.err.params).toBe('[redacted]');
    expect(lines[1]).toContain('duplicate key value violates unique constraint');
  });
});
