import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { startTestWorker, waitUntil } from '../support/worker.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
let adminToken: string;
const ROWS = 100_000;

beforeAll(async () => {
  env = await createTestEnv({ EXPORT_DIR: `${process.cwd()}/test-artifacts/exports-${process.pid}` });
  server = await startTestServer(env);
  t = await seedTenants(env);
  adminToken = await t.token('general', 'admin');
  await startTestWorker(env);
  // 100,000 rows in one statement. Chain fields are filled in bulk with the trigger bypassed (superuser
  // test set-up only): the export reads rows, it does not verify them.
  const h = t.hospital.general.id;
  await env.deps.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL session_replication_role = replica`);
    await tx.execute(sql`
      INSERT INTO audit_logs (chain_id, seq, hospital_id, action, resource, outcome, metadata, prev_hash, hash, timestamp, retention_until)
      SELECT ${h}, base.m + g, ${h}, 'bulk.test', 'test', 'success', jsonb_build_object('n', g), '', md5(g::text), now(), now() + interval '6 years'
      FROM generate_series(1, ${ROWS}) g, (SELECT coalesce(max(seq), 0) AS m FROM audit_logs WHERE chain_id = ${h}) base`);
  });
});

const download = (id: string, token?: string) => fetch(`${server.url}/exports/${id}/download`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('audit exports', () => {
  it('exports 100,000 rows with the right count and checksum, reporting progress', async () => {
    const admin = clientFor(server, adminToken);
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE chain_id = ${t.hospital.general.id}`);
    const expected = rows[0]!.n;
    expect(expected).toBeGreaterThan(ROWS);
    const started = Date.now();
    const { id } = await admin.audit.exportLogs.mutate({ format: 'ndjson' });
    const progress = new Set<number>();
    let peakRss = 0;
    await waitUntil(
      async () => {
        const e = await admin.audit.getExport.query({ id });
        progress.add(e.progress);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        return e.status === 'completed' || e.status === 'failed';
      },
      120_000,
      'the export to finish',
    );
    const done = await admin.audit.getExport.query({ id });
    const seconds = (Date.now() - started) / 1000;
    console.log(`export: ${expected} rows in ${seconds.toFixed(1)} s (${Math.round(expected / seconds)} rows/s), test process peak RSS ${Math.round(peakRss / 1e6)} MB, progress seen ${[...progress].join(',')}`);
    expect(done).toMatchObject({ status: 'completed', progress: 100, rowCount: expected, downloadUrl: `/exports/${id}/download` });
    expect([...progress].some((p) => p > 0 && p < 100)).toBe(true);

    const res = await download(id, adminToken);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(done.sha256);
    const lines = gunzipSync(body).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(expected);
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ action: 'bulk.test', metadata: { n: ROWS } });
    expect((await admin.audit.listExports.query()).map((e) => e.id)).toContain(id);

    const { rows: audited } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'audit.export_downloaded' AND resource_id = ${id}`);
    expect(audited[0]!.n).toBe(1);
  });

  it('refuses the download to other hospitals, non-admins and anonymous callers', async () => {
    const admin = clientFor(server, adminToken);
    const { id } = await admin.audit.exportLogs.mutate({ format: 'csv', action: 'alert.created' });
    await waitUntil(async () => (await admin.audit.getExport.query({ id })).status === 'completed', 30_000, 'the export');
    expect((await download(id, await t.token('riverside', 'admin'))).status).toBe(404);
    expect((await download(id, await t.token('general', 'nurse.icu'))).status).toBe(404);
    expect((await download(id, await t.token('general', 'head'))).status).toBe(404);
    expect((await download(id)).status).toBe(401);
    expect((await download('nope', adminToken)).status).toBe(404);
    const csv = gunzipSync(Buffer.from(await (await download(id, adminToken)).arrayBuffer())).toString('utf8');
    expect(csv.split('\n')[0]).toBe('seq,id,timestamp,user_id,action,resource,resource_id,outcome,ip_address,user_agent,session_id,metadata,hash');
    expect(csv).toContain('alert.created');
    expect(csv).not.toContain('bulk.test');
  });

  it('export procedures: permissions, tenancy and malformed input', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'OK', (e) => e.data?.code);
    const admin = clientFor(server, adminToken);
    const { id } = await admin.audit.exportLogs.mutate({ format: 'csv' });
    expect(await code(clientFor(server, await t.token('riverside', 'admin')).audit.getExport.query({ id }))).toBe('NOT_FOUND');
    expect(await code(clientFor(server, await t.token('general', 'operator')).audit.exportLogs.mutate({ format: 'csv' }))).toBe('FORBIDDEN');
    expect(await code(clientFor(server).audit.listExports.query())).toBe('UNAUTHORIZED');
    const before = (await admin.audit.listExports.query({ limit: 100 })).length;
    expect(await code(admin.audit.exportLogs.mutate({ format: 'xml' } as never))).toBe('BAD_REQUEST');
    expect(await code(admin.audit.exportLogs.mutate({ format: 'csv', from: 'yesterday' } as never))).toBe('BAD_REQUEST');
    expect((await admin.audit.listExports.query({ limit: 100 })).length).toBe(before);
  });
});
