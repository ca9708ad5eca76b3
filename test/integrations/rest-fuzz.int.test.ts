import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { rest, writes } from './rest-helpers.js';

// Random bodies, paths, methods and headers against the REST routes: never a 5xx, and a 4xx writes nothing.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let keys: string[];
let alertId: string;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  const admin = clientFor(server, await t.token('general', 'admin'));
  const rw = await admin.integrations.createKey.mutate({ name: 'Fuzz rw', scopes: ['alerts:write', 'alerts:read'] });
  const ro = await admin.integrations.createKey.mutate({ name: 'Fuzz ro', scopes: ['alerts:read'] });
  const theirs = clientFor(server, await t.token('riverside', 'admin'));
  const other = await theirs.integrations.createKey.mutate({ name: 'Fuzz riverside', scopes: ['alerts:write', 'alerts:read'] });
  keys = [rw.key, ro.key, other.key];
  const created = await rest(server, 'POST', '/api/v1/alerts', { key: rw.key, body: { title: 'Fuzz target', priority: 'low', alertType: 'fuzz', departmentId: t.hospital.general.departments.ER } });
  alertId = created.body.id;
});

const ascii = (max: number) => fc.string({ unit: 'grapheme-ascii', maxLength: max });
const value = fc.oneof(ascii(30), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(ascii(5), { maxLength: 3 }), fc.dictionary(ascii(5), ascii(5), { maxKeys: 2 }));

describe('REST fuzz', () => {
  it('never answers 5xx and never writes on a 4xx', async () => {
    const er = t.hospital.general.departments.ER;
    const riversideEr = t.hospital.riverside.departments.ER;
    const body = fc.oneof(
      fc.json({ maxDepth: 3 }).map((raw) => ({ raw })),
      fc
        .record(
          {
            title: fc.oneof(ascii(250), value),
            priority: fc.oneof(fc.constantFrom('low', 'medium', 'high', 'critical'), value),
            alertType: fc.oneof(fc.constantFrom('monitor', 'nurse_call'), value),
            departmentId: fc.oneof(fc.constantFrom(er, riversideEr), value),
            roomNumber: fc.oneof(ascii(50), value),
            expiresAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), value),
            description: value,
          },
          { requiredKeys: [] },
        )
        .map((b) => ({ raw: JSON.stringify(b) })),
      // Mostly valid raises (random title and room) so that the run also reaches creation and replays.
      fc
        .record({ title: ascii(60), roomNumber: ascii(10), departmentId: fc.constantFrom(er, er, riversideEr) })
        .map((v) => ({ raw: JSON.stringify({ priority: 'high', alertType: 'monitor', ...v }) })),
      fc.constant({ raw: undefined as string | undefined }),
      ascii(40).map((raw) => ({ raw })),
    );
    const path = fc.oneof(
      fc.constant('/api/v1/alerts'),
      fc.constantFrom('/api/v1/alerts', `/api/v1/alerts/${alertId}`, `/api/v1/alerts/${alertId}/acknowledge`, `/api/v1/alerts/${alertId}/resolve`, '/api/v1/openapi.json', '/api/docs'),
      fc.tuple(fc.constantFrom('/api/v1/alerts/', '/api/v1/'), fc.string({ maxLength: 40 }), fc.constantFrom('', '/acknowledge', '/resolve', '/x')).map(([a, b, c]) => `${a}${encodeURIComponent(b)}${c}`),
    );
    const headers = fc.record(
      {
        authorization: fc.oneof({ arbitrary: fc.constantFrom(...keys.map((k) => `Bearer ${k}`)), weight: 4 }, ascii(60), fc.constant('Bearer clk_')),
        'content-type': fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data'),
        'idempotency-key': fc.oneof(ascii(20), fc.constantFrom('fuzz-1', 'fuzz-2')),
      },
      { requiredKeys: ['content-type'] },
    );
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'), path, body, headers, async (method, p, b, h) => {
        const before = await writes(env);
        const raw = method === 'GET' ? undefined : b.raw;
        const r = await rest(server, method, p, { raw, headers: h });
        seen.add(r.status);
        expect(r.status, `${method} ${p} ${raw} ${JSON.stringify(h)}`).toBeLessThan(500);
        if (r.status >= 400) {
          expect(await writes(env), `${method} ${p} → ${r.status}`).toBe(before);
          if (p.startsWith('/api/v1/')) expect(Object.keys(r.body ?? {}), `${method} ${p}`).toEqual(['error']);
        }
      }),
      { numRuns: 300, seed: 20261204 },
    );
    // The run reached past the key check and the validation, not only the first refusal.
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 400, 401, 403, 404]));
  });
});
