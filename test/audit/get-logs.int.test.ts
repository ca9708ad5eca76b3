import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendForgedAuditRows } from '../../server/audit/bulk.js';
import { logAuditEvent } from '../../server/audit/log.js';
import { logsPageQuery } from '../../server/audit/service.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { auditCount, systemCtx, trpcError } from './helpers.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;
let generalIds: string[]; // every general row, in (timestamp DESC, id DESC) order

// One microsecond-exact instant shared by many rows, and rows a microsecond apart inside one millisecond:
// a cursor that kept only a JS Date (milliseconds) would skip or repeat rows here.
const SAME_INSTANT = Date.UTC(2025, 5, 1, 12, 0, 0, 123) * 1000 + 456;
const SAME_MS = Date.UTC(2025, 5, 1, 11, 0, 0, 500) * 1000;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
  const g = t.hospital.general.id;
  const nurse = t.user('general', 'nurse.icu');
  await appendForgedAuditRows(
    env.deps.pool,
    g,
    Array.from({ length: 30 }, (_, i) => ({ at: SAME_INSTANT, action: 'test.same_instant', resource: 'test', resourceId: String(i), userId: nurse.id })),
  );
  await appendForgedAuditRows(
    env.deps.pool,
    g,
    Array.from({ length: 20 }, (_, i) => ({ at: SAME_MS + i, action: 'test.same_ms', resource: 'test', outcome: i % 2 ? 'failure' : 'success' })),
  );
  for (let i = 0; i < 15; i++) {
    await logAuditEvent(env.deps.db, systemCtx(g, nurse.id), { action: 'user.viewed', resource: 'user', resourceId: nurse.id, outcome: i < 5 ? 'failure' : 'success' });
  }
  await logAuditEvent(env.deps.db, systemCtx(t.hospital.riverside.id), { action: 'user.viewed', resource: 'user' });
  const { rows } = await env.deps.db.execute<{ id: string }>(sql`SELECT id FROM audit_logs WHERE hospital_id = ${g} ORDER BY timestamp DESC, id DESC`);
  generalIds = rows.map((r) => r.id);
});

describe('audit.getLogs', () => {
  it('returns the newest rows of the caller hospital with the documented fields', async () => {
    const page = await admin.audit.getLogs.query({ limit: 5 });
    expect(page.logs).toHaveLength(5);
    expect(page.nextCursor).toEqual(expect.any(String));
    const row = page.logs[0]!;
    expect(Object.keys(row).sort()).toEqual(
      ['action', 'hash', 'id', 'ipAddress', 'metadata', 'outcome', 'resource', 'resourceId', 'seq', 'sessionId', 'timestamp', 'userAgent', 'userId', 'userName'].sort(),
    );
    expect(row).toMatchObject({ action: 'user.viewed', userName: 'Nia ICU Nurse', ipAddress: '127.0.0.1', userAgent: 'audit-test' });
    expect(row.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(page.logs.map((l) => l.id)).toEqual(generalIds.slice(0, 5));
  });

  it('pages with a keyset cursor: no duplicates, no gaps, microsecond ties included', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.audit.getLogs.query({ limit: 25, ...(cursor ? { cursor } : {}) });
      seen.push(...page.logs.map((l) => l.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 50);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(generalIds);
  });

  it('pages through rows sharing one timestamp', async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await admin.audit.getLogs.query({ action: 'test.same_instant', limit: 7, ...(cursor ? { cursor } : {}) });
      all.push(...page.logs.map((l) => l.id));
      expect(new Set(page.logs.map((l) => l.timestamp))).toEqual(new Set(['2025-06-01T12:00:00.123456Z']));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(all).toHaveLength(30);
    expect(new Set(all).size).toBe(30);
  });

  it('filters by action, user, resource, outcome and time range', async () => {
    const nurse = t.user('general', 'nurse.icu');
    const byAction = await admin.audit.getLogs.query({ action: 'test.same_ms', limit: 200 });
    expect(byAction.logs).toHaveLength(20);
    expect(byAction.nextCursor).toBeNull();
    const failures = await admin.audit.getLogs.query({ action: 'test.same_ms', outcome: 'failure', limit: 200 });
    expect(failures.logs).toHaveLength(10);
    expect(failures.logs.every((l) => l.outcome === 'failure')).toBe(true);
    const byUser = await admin.audit.getLogs.query({ userId: nurse.id, resource: 'user', limit: 200 });
    expect(byUser.logs).toHaveLength(15);
    const range = await admin.audit.getLogs.query({ from: '2025-06-01T11:00:00.500005Z', to: '2025-06-01T11:00:00.500015Z', limit: 200 });
    // from is inclusive and to exclusive, at microsecond precision
    expect(range.logs.map((l) => l.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => `2025-06-01T11:00:00.5000${String(14 - i).padStart(2, '0')}Z`));
  });

  it('never shows another hospital', async () => {
    const riverside = clientFor(server, await t.token('riverside', 'admin'));
    const theirs = await riverside.audit.getLogs.query({ limit: 200 });
    const mine = new Set(generalIds);
    expect(theirs.logs.length).toBeGreaterThan(0);
    expect(theirs.logs.some((l) => mine.has(l.id))).toBe(false);
    // A general user id as a filter finds nothing in riverside.
    expect((await riverside.audit.getLogs.query({ userId: t.user('general', 'nurse.icu').id })).logs).toEqual([]);
  });

  it('answers UNAUTHORIZED without a session and FORBIDDEN for roles without audit.view', async () => {
    expect((await trpcError(clientFor(server).audit.getLogs.query({}))).code).toBe('UNAUTHORIZED');
    for (const account of ['nurse.icu', 'operator', 'head', 'doctor.er'] as const) {
      const c = clientFor(server, await t.token('general', account));
      expect((await trpcError(c.audit.getLogs.query({}))).code).toBe('FORBIDDEN');
    }
  });

  it('rejects malformed input with BAD_REQUEST and writes nothing', async () => {
    const before = await auditCount(env);
    const bad: unknown[] = [
      { limit: 0 },
      { limit: 201 },
      { limit: 1.5 },
      { outcome: 'maybe' },
      { from: 'yesterday' },
      { from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' },
      { surprise: true },
      { cursor: 'not base64 !!' },
      { cursor: Buffer.from('2025-01-01|x').toString('base64url') },
      { cursor: Buffer.from('2025-01-01T00:00:00.000Z|id').toString('base64url') },
      { cursor: Buffer.from('no separator').toString('base64url') },
    ];
    for (const input of bad) {
      const err = await trpcError(admin.audit.getLogs.query(input as never));
      expect(err.code, JSON.stringify(input)).toBe('BAD_REQUEST');
    }
    const cursorErr = await trpcError(admin.audit.getLogs.query({ cursor: 'Zm9v' }));
    expect(cursorErr.fieldErrors?.cursor).toBeDefined();
    expect(await auditCount(env)).toBe(before);
  });

  it('walks audit_hospital_page_idx in order (no sort of the hospital, never OFFSET)', async () => {
    const page = await admin.audit.getLogs.query({ limit: 5 });
    const query = logsPageQuery(t.hospital.general.id, { limit: 50, cursor: page.nextCursor! });
    const plan = await env.deps.db.transaction(async (tx) => {
      // The test table is tiny, so take the cheap alternatives away: what is left must be the ordered index walk.
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      await tx.execute(sql`SET LOCAL enable_bitmapscan = off`);
      const { rows } = await tx.execute<{ 'QUERY PLAN': string }>(sql`EXPLAIN ${query}`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('audit_hospital_page_idx');
    expect(plan).not.toMatch(/\bSort\b/);
    expect(plan).toMatch(/Index Cond: .*ROW\("timestamp", id\) < ROW/);
  });
});
