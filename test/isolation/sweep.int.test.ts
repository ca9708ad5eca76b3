import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { callRaw, listProcedures, objectSchema } from '../fuzz/procedures.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { type Account, seedTenants, type Tenants } from '../support/tenants.js';

// Tenant isolation, enumerated from the router: every procedure is called as General Hospital users with
// Riverside's ids in every id-looking field. Each answer must be NOT_FOUND, FORBIDDEN or BAD_REQUEST, or a
// success that carries nothing of Riverside's; and nothing of Riverside's may change. A General
// subscription never receives a Riverside event.

let env: TestEnv;
let server: TestServer;
let t: Tenants;
const SECRET_TITLE = `RIVERSIDE-ONLY-${Date.now()}`;
let riversideIds: string[] = [];
/** Strings that must never appear in an answer to a General user. */
let riversideMarkers: string[] = [];

type Json = Record<string, unknown>;
const ID_KEY = /(^id$|Id$)/;
const IDS_KEY = /Ids$/;

/** A plausible value for a JSON schema (zod 4's toJSONSchema output), with `id` in every id-looking field. */
function example(schema: Json | undefined, id: string, key = ''): unknown {
  if (!schema) return undefined;
  if (IDS_KEY.test(key)) return [id];
  if (ID_KEY.test(key)) return id;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const k of ['anyOf', 'oneOf'] as const) {
    const list = schema[k] as Json[] | undefined;
    if (list) return example(list.find((s) => s.type !== 'null') ?? list[0], id, key);
  }
  if (Array.isArray(schema.allOf)) return example(schema.allOf[0] as Json, id, key);
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      return Object.fromEntries(Object.entries(props).map(([k, s]) => [k, example(s, id, k)]));
    }
    case 'array':
      return Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => example(schema.items as Json, id, key));
    case 'integer':
    case 'number':
      return Math.max(Number(schema.minimum ?? 1), 1);
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'email') return 'isolation@general.test';
      if (schema.format === 'date-time') return new Date().toISOString();
      if (/lastEventId/i.test(key)) return '0';
      return 'Isolation check value'.slice(0, Number(schema.maxLength ?? 100)).padEnd(Number(schema.minLength ?? 0), 'x');
    default:
      return 'x';
  }
}

/**
 * Every string in an answer, except under `filters`: an audit export echoes the filters its requester
 * gave (the sweep's own Riverside ids), which reveals nothing.
 */
function strings(value: unknown, key = ''): string[] {
  if (key === 'filters') return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap((v) => strings(v));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, k));
  return [];
}

/** A fingerprint of everything Riverside owns (audit rows included): any change is a cross-tenant write. */
async function riversideFingerprint(hospitalId: string): Promise<string> {
  const { rows } = await env.deps.pool.query(
    `SELECT (SELECT json_agg(h ORDER BY id) FROM hospitals h WHERE id = $1)::text AS h,
            (SELECT json_agg(d ORDER BY id) FROM departments d WHERE hospital_id = $1)::text AS d,
            (SELECT json_agg(json_build_array(u.id, u.role, u.is_active, u.department_id, u.email, u.name, u.password_hash) ORDER BY id) FROM users u WHERE hospital_id = $1)::text AS u,
            (SELECT json_agg(json_build_array(a.id, a.status, a.version, a.escalation_level, a.title) ORDER BY id) FROM alerts a WHERE hospital_id = $1)::text AS a,
            (SELECT json_agg(json_build_array(s.id, s.name, s.is_active, s.starts_at, s.shift_hours) ORDER BY id) FROM schedules s WHERE hospital_id = $1)::text AS sc,
            (SELECT json_agg(json_build_array(o.id, o.user_id, o.starts_at, o.ends_at) ORDER BY id) FROM schedule_overrides o WHERE hospital_id = $1)::text AS so,
            (SELECT count(*) FROM audit_logs WHERE hospital_id = $1) AS l,
            (SELECT count(*) FROM alert_events WHERE hospital_id = $1) AS e,
            (SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.hospital_id = $1 AND s.revoked_at IS NOT NULL) AS r`,
    [hospitalId],
  );
  return createHash('sha256').update(JSON.stringify(rows[0])).digest('hex');
}

beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
  server = await startTestServer(env);
  const riverside = t.hospital.riverside;
  // Riverside records of every kind: an alert, an audit export, users, departments.
  const operator = clientFor(server, await t.token('riverside', 'operator'));
  const alert = await operator.alerts.create.mutate({ title: SECRET_TITLE, priority: 'high', alertType: 'other', departmentId: riverside.departments.ICU, roomNumber: '7' } as never);
  const admin = clientFor(server, await t.token('riverside', 'admin'));
  const exp = await admin.audit.exportLogs.mutate({ format: 'csv' } as never);
  const schedule = await admin.schedules.create.mutate({ name: 'Riverside on call', rotation: { participants: [t.user('riverside', 'doctor.icu').id], startsAt: new Date().toISOString(), shiftHours: 24 } } as never);
  const cover = await admin.schedules.addOverride.mutate({ scheduleId: (schedule as { id: string }).id, userId: t.user('riverside', 'admin').id, from: new Date().toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() } as never);
  const { rows: users } = await env.deps.pool.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE hospital_id = $1', [riverside.id]);
  const { rows: logs } = await env.deps.pool.query<{ id: string }>('SELECT id FROM audit_logs WHERE hospital_id = $1 LIMIT 2', [riverside.id]);
  const { rows: alertRows } = await env.deps.pool.query<{ id: string }>('SELECT id FROM alerts WHERE hospital_id = $1 ORDER BY id LIMIT 3', [riverside.id]);
  riversideIds = [
    riverside.id,
    riverside.departments.ICU,
    riverside.departments.ER,
    (alert as { id: string }).id,
    ...alertRows.map((r) => r.id),
    (exp as { id: string }).id,
    (schedule as { id: string }).id,
    (cover as { id: string }).id,
    t.user('riverside', 'admin').id,
    t.user('riverside', 'nurse.icu').id,
    ...logs.map((r) => r.id),
  ];
  riversideMarkers = [...new Set([...riversideIds, ...users.map((u) => u.id), ...users.map((u) => u.email), SECRET_TITLE, 'Riverside Hospital', '@riverside.test'])];
});

const procedures = listProcedures();
/** Answers by code: the sweep is only worth something if many calls got past validation. */
const tally: Record<string, number> = {};
const roles: Account[] = ['admin', 'operator', 'head', 'nurse.icu'];

describe('tenant isolation sweep (every procedure, Riverside ids, General users)', () => {
  it('finds procedures with id fields to sweep', () => {
    const withIds = procedures.filter((p) => JSON.stringify(p.jsonSchema ?? {}).match(/"[a-zA-Z]*Ids?"/));
    expect(withIds.length).toBeGreaterThan(10);
  });

  it.each(procedures.filter((p) => p.type !== 'subscription').map((p) => [p.path, p] as const))('%s', async (_path, p) => {
    const before = await riversideFingerprint(t.hospital.riverside.id);
    for (const role of roles) {
      const token = await t.token('general', role);
      // Without an id-looking field, every id gives the same input: call it once.
      const hasIds = objectSchema(p.jsonSchema) && /"(id|[a-zA-Z]+Ids?)"/.test(JSON.stringify(p.jsonSchema));
      const ids = hasIds ? riversideIds : [riversideIds[0] as string];
      for (const id of ids) {
        const input = p.jsonSchema ? example(p.jsonSchema, id) : undefined;
        const r = await callRaw(server.url, p.path, p.type as 'query' | 'mutation', input, token);
        const what = `${p.path} as general ${role} with ${JSON.stringify(input)?.slice(0, 200)} → ${r.status} ${r.code ?? ''}`;
        expect(r.status, what).toBeLessThan(500);
        tally[r.code ?? 'OK'] = (tally[r.code ?? 'OK'] ?? 0) + 1;
        if (r.status >= 400) {
          expect(['NOT_FOUND', 'FORBIDDEN', 'BAD_REQUEST', 'UNAUTHORIZED', 'CONFLICT', 'TOO_MANY_REQUESTS', 'PAYLOAD_TOO_LARGE', 'PRECONDITION_FAILED'], what).toContain(r.code);
          // Refusals must not reveal that the Riverside record exists.
          if (r.code === 'FORBIDDEN' || r.code === 'CONFLICT') expect(JSON.stringify(r.body), what).not.toContain(id);
        }
        const text = strings(r.body).join('\n');
        for (const marker of riversideMarkers) expect(text.includes(marker), `${what} leaked ${marker}`).toBe(false);
      }
    }
    expect(await riversideFingerprint(t.hospital.riverside.id), `${p.path} changed Riverside's data`).toBe(before);
  }, 90_000);

  it('most swept calls passed validation and were judged by the services (not just BAD_REQUEST)', () => {
    process.stdout.write(`isolation sweep answers: ${JSON.stringify(tally)}\n`);
    expect(tally.NOT_FOUND ?? 0).toBeGreaterThan(80);
    expect(tally.FORBIDDEN ?? 0).toBeGreaterThan(50);
  });

  it('a General subscription never receives a Riverside event, live or replayed', async () => {
    const subs = await Promise.all(
      (['admin', 'head', 'nurse.icu', 'operator'] as Account[]).map(async (role) => {
        const c = collectEvents(clientFor(server, await t.token('general', role)), { lastEventId: '0' });
        await c.started;
        return c;
      }),
    );
    const riverside = clientFor(server, await t.token('riverside', 'operator'));
    const general = clientFor(server, await t.token('general', 'operator'));
    const riversideAlert = (await riverside.alerts.create.mutate({ title: `${SECRET_TITLE}-live`, priority: 'critical', alertType: 'other', departmentId: t.hospital.riverside.departments.ICU } as never)) as { id: string };
    const generalAlert = (await general.alerts.create.mutate({ title: 'General marker', priority: 'critical', alertType: 'other', departmentId: t.hospital.general.departments.ICU } as never)) as { id: string };
    // The General alert arriving proves the subscriptions are live and past the Riverside one.
    for (const s of subs) await s.until((events) => events.some((e) => e.alert.id === generalAlert.id), 10_000);
    for (const s of subs) {
      for (const e of s.events) {
        expect(e.alert.hospitalId).toBe(t.hospital.general.id);
        expect(e.alert.id).not.toBe(riversideAlert.id);
        expect(JSON.stringify(e)).not.toContain('riverside');
      }
      s.stop();
    }
  });
});
