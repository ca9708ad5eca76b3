import { validate } from '@readme/openapi-parser';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { restLimiter } from '../../server/rest/rate-limit.js';
import { idempotencyCleanupProcessor } from '../../worker/processors/maintenance.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { rest, writes } from './rest-helpers.js';

// Integrations issue, part 2: the REST API for integrators — API keys, Idempotency-Key, scopes,
// tenant isolation, JSON errors, the rate limit, and the OpenAPI document generated from the zod schemas.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let rw: { id: string; key: string };
let readOnly: string;
let writeOnly: string;
let riverside: string;
let er: string;

const alertBody = (title: string) => ({ title, priority: 'high', alertType: 'monitor', departmentId: er, roomNumber: '12' });

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  er = t.hospital.general.departments.ER;
  const admin = clientFor(server, await t.token('general', 'admin'));
  rw = await admin.integrations.createKey.mutate({ name: 'ICU gateway', scopes: ['alerts:write', 'alerts:read'] });
  readOnly = (await admin.integrations.createKey.mutate({ name: 'Dashboard', scopes: ['alerts:read'] })).key;
  writeOnly = (await admin.integrations.createKey.mutate({ name: 'Nurse call', scopes: ['alerts:write'] })).key;
  const theirs = clientFor(server, await t.token('riverside', 'admin'));
  riverside = (await theirs.integrations.createKey.mutate({ name: 'Riverside feed', scopes: ['alerts:write', 'alerts:read'] })).key;
});

describe('REST API', () => {
  it('raises, reads, acknowledges and resolves an alert; the key is the audited actor', async () => {
    const created = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('SpO2 low bed 12') });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: 'SpO2 low bed 12', status: 'active', source: 'api:ICU gateway', hospitalId: t.hospital.general.id, createdBy: null, deduplicated: false });
    const id = created.body.id as string;
    expect(await rest(server, 'GET', `/api/v1/alerts/${id}`, { key: readOnly })).toMatchObject({ status: 200, body: { id, status: 'active' } });
    const ack = await rest(server, 'POST', `/api/v1/alerts/${id}/acknowledge`, { key: rw.key, body: {} });
    expect(ack).toMatchObject({ status: 200, body: { id, status: 'acknowledged', acknowledgedBy: null } });
    expect(ack.body.acknowledgedAt).not.toBeNull();
    expect(await rest(server, 'POST', `/api/v1/alerts/${id}/acknowledge`, { key: rw.key, body: {} })).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await rest(server, 'POST', `/api/v1/alerts/${id}/resolve`, { key: writeOnly, body: {} })).toMatchObject({ status: 200, body: { status: 'resolved', resolvedBy: null } });
    const { rows } = await env.deps.db.execute<{ action: string; user_id: string | null; user_agent: string }>(
      sql`SELECT action, user_id, user_agent FROM audit_logs WHERE resource_id = ${id} AND outcome = 'success' ORDER BY seq`,
    );
    expect(rows.map((r) => r.action)).toEqual(['alert.created', 'alert.acknowledged', 'alert.resolved']);
    expect(rows.every((r) => r.user_id === null && r.user_agent.startsWith('api:'))).toBe(true);
  });

  it('Idempotency-Key: a replay gets the first answer and no second alert; another body with the key is refused; concurrent duplicates create one', async () => {
    const headers = { 'idempotency-key': 'order-4711' };
    const first = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Replay me'), headers });
    const again = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Replay me'), headers });
    expect(first.status).toBe(201);
    expect(again).toEqual(expect.objectContaining({ status: 201, body: first.body }));
    const other = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Something else'), headers });
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'UNPROCESSABLE_CONTENT' } } });
    expect(other.body.error.message).toMatch(/different request/);
    const count = async (title: string) => (await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alerts WHERE title = ${title}`)).rows[0]?.n;
    expect(await count('Replay me')).toBe(1);
    expect(await count('Something else')).toBe(0);
    // The same key on another API key is another request.
    expect((await rest(server, 'POST', '/api/v1/alerts', { key: writeOnly, body: alertBody('Other key'), headers })).status).toBe(201);

    const burst = await Promise.all(
      Array.from({ length: 8 }, () => rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Burst'), headers: { 'idempotency-key': 'burst-1' } })),
    );
    expect(burst.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    expect(new Set(burst.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
    expect(await count('Burst')).toBe(1);
    // A request that failed forgets its key: fixed, it may be sent again with the same key.
    const bad = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: { ...alertBody('Fixed later'), departmentId: 'no-such-department' }, headers: { 'idempotency-key': 'fix-1' } });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect((await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Fixed later'), headers: { 'idempotency-key': 'fix-1' } })).status).toBe(201);
  });

  it('the hourly idempotency-cleanup job deletes answers older than a day and keeps the rest; the key then starts a new request', async () => {
    const headers = { 'idempotency-key': 'old-order-1' };
    const first = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Old order'), headers });
    await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Fresh order'), headers: { 'idempotency-key': 'fresh-order-1' } });
    await env.deps.db.execute(sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-order-1'`);
    const keys = async () => (await env.deps.db.execute<{ key: string }>(sql`SELECT key FROM idempotency_keys WHERE key IN ('old-order-1', 'fresh-order-1') ORDER BY key`)).rows.map((r) => r.key);
    expect(await idempotencyCleanupProcessor.run(env.deps, {}, env.deps.log)).toMatchObject({ removed: expect.any(Number) });
    expect(await keys()).toEqual(['fresh-order-1']);
    const again = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Old order'), headers });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
  });

  it("another hospital's key gets 404 on every route for General's alert, and changes nothing", async () => {
    const { body } = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Isolated') });
    const before = await writes(env);
    for (const [method, path] of [
      ['GET', `/api/v1/alerts/${body.id}`],
      ['POST', `/api/v1/alerts/${body.id}/acknowledge`],
      ['POST', `/api/v1/alerts/${body.id}/resolve`],
    ] as const) {
      const r = await rest(server, method, path, { key: riverside, body: method === 'POST' ? {} : undefined });
      expect(r, `${method} ${path}`).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'Alert not found' } } });
    }
    // Raising into General's department with Riverside's key is refused too.
    const cross = await rest(server, 'POST', '/api/v1/alerts', { key: riverside, body: alertBody('Cross-tenant') });
    expect(cross.status).toBeGreaterThanOrEqual(400);
    expect(cross.status).toBeLessThan(500);
    expect(await writes(env)).toBe(before);
  });

  it('401 without a valid key (missing, unknown, revoked), 403 without the scope; JSON errors and nothing written', async () => {
    const before = await writes(env);
    for (const key of [undefined, 'clk_nope', 'Basic abc']) {
      const r = await rest(server, 'POST', '/api/v1/alerts', { key, body: alertBody('Unauthorised') });
      expect(r).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
      expect(Object.keys(r.body)).toEqual(['error']);
    }
    expect(await rest(server, 'POST', '/api/v1/alerts', { key: readOnly, body: alertBody('Read-only') })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await rest(server, 'GET', '/api/v1/alerts/x', { key: writeOnly })).status).toBe(403);
    const admin = clientFor(server, await t.token('general', 'admin'));
    const doomed = await admin.integrations.createKey.mutate({ name: 'Doomed', scopes: ['alerts:write'] });
    await admin.integrations.revokeKey.mutate({ keyId: doomed.id });
    await new Promise((r) => setTimeout(r, 1_050));
    expect((await rest(server, 'POST', '/api/v1/alerts', { key: doomed.key, body: alertBody('Revoked') })).status).toBe(401);
    expect(await writes(env)).toBe(before);
  });

  it('bad input is 400 with field errors (bad JSON 400, no JSON 415, unknown route 404) and writes nothing', async () => {
    const before = await writes(env);
    const r = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: { title: '', priority: 'urgent', departmentId: er } });
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'Input validation failed' } } });
    expect(Object.keys(r.body.error.fieldErrors).sort()).toEqual(['alertType', 'priority', 'title']);
    expect((await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, raw: '{"title":' })).status).toBe(400);
    expect((await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, raw: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Bad key'), headers: { 'idempotency-key': 'x'.repeat(300) } })).status).toBe(400);
    expect((await rest(server, 'GET', '/api/v1/nothing', { key: rw.key })).status).toBe(404);
    expect(await writes(env)).toBe(before);
  });

  it('a key past its per-minute budget gets 429 with Retry-After', async () => {
    const admin = clientFor(server, await t.token('general', 'admin'));
    const busy = await admin.integrations.createKey.mutate({ name: 'Busy feed', scopes: ['alerts:read'] });
    await restLimiter(env.deps).penalty(busy.id, 600);
    const r = await rest(server, 'GET', '/api/v1/alerts/x', { key: busy.key });
    expect(r).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_REQUESTS' } } });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('the OpenAPI document validates, every documented route answers, and /api/docs lists them without scripts', async () => {
    const doc = await rest(server, 'GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(await validate(structuredClone(doc.body))).toMatchObject({ valid: true });
    const { body: alert } = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: alertBody('Documented') });
    const routes = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), p] as const));
    expect(routes.length).toBe(4);
    for (const [method, path] of routes) {
      const r = await rest(server, method, `/api/v1${path.replace('{id}', alert.id)}`, { key: rw.key, body: method === 'POST' ? alertBody('Documented') : undefined });
      expect([404, 405], `${method} ${path}`).not.toContain(r.status);
      expect(r.status, `${method} ${path}`).toBeLessThan(500);
    }
    const page = await fetch(`${server.url}/api/docs`);
    const html = await page.text();
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    for (const [, path] of routes) expect(html).toContain(`/api/v1${path}`);
    expect(html).toContain('Idempotency-Key');
    expect(html).not.toMatch(/<script/i);
  });
});
