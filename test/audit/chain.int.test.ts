import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendForgedAuditRows, copyAuditLines, readChainTail } from '../../server/audit/bulk.js';
import { auditCopyLine, type ChainRow, canonicalText, rowHash } from '../../server/audit/chain.js';
import { logAuditEvent } from '../../server/audit/log.js';
import { verifyChain, verifyChains } from '../../server/audit/verify.js';
import { createDatabase } from '../../server/db/client.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { asAttacker, freshHospital, systemCtx, writeRows } from './helpers.js';

const run = promisify(execFile);
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
});

const verify = (chainId: string) => verifyChain(env.deps.db, chainId);
const rowAt = async (client: pg.Client, chainId: string, seq: number) =>
  (await client.query('SELECT * FROM audit_logs WHERE chain_id = $1 AND seq = $2', [chainId, seq])).rows[0];

describe('audit chain: append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE from ordinary sessions', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 3);
    for (const stmt of [
      sql`UPDATE audit_logs SET action = 'x' WHERE chain_id = ${h}`,
      sql`DELETE FROM audit_logs WHERE chain_id = ${h}`,
      sql`TRUNCATE audit_logs`,
    ]) {
      await expect(env.deps.db.execute(stmt)).rejects.toMatchObject({ cause: { code: '42501' } });
    }
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 3 });
  });

  it('chains an INSERT that tries to choose its own seq and hash', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 2);
    await env.deps.db.execute(sql`INSERT INTO audit_logs (hospital_id, action, outcome, seq, hash, prev_hash, timestamp)
      VALUES (${h}, 'forged', 'success', 1, 'f00', 'bar', '2000-01-01Z')`);
    const { rows } = await env.deps.db.execute<{ seq: string; year: number }>(
      sql`SELECT seq::text AS seq, extract(year FROM timestamp)::int AS year FROM audit_logs WHERE chain_id = ${h} AND action = 'forged'`,
    );
    expect(rows[0]!.seq).toBe('3');
    expect(rows[0]!.year).toBeGreaterThan(2000);
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 3 });
  });
});

describe('audit chain: tamper detection (attacker with triggers off)', () => {
  it('finds a modified row', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 6);
    await asAttacker(env, (c) => c.query(`UPDATE audit_logs SET outcome = 'failure' WHERE chain_id = $1 AND seq = 3`, [h]));
    expect(await verify(h)).toMatchObject({ verified: false, firstBadSeq: '3', problem: expect.stringContaining('modified') });
  });

  it('finds a modified row whose own hash was recomputed (the next link breaks)', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 6);
    await asAttacker(env, async (c) => {
      await c.query(`UPDATE audit_logs SET action = 'nothing.to.see' WHERE chain_id = $1 AND seq = 4`, [h]);
      await c.query(`UPDATE audit_logs a SET hash = audit_row_hash(a) WHERE chain_id = $1 AND seq = 4`, [h]);
    });
    expect(await verify(h)).toMatchObject({ verified: false, firstBadSeq: '5', problem: expect.stringContaining('link') });
  });

  it('finds a deleted row', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 6);
    await asAttacker(env, (c) => c.query('DELETE FROM audit_logs WHERE chain_id = $1 AND seq = 2', [h]));
    expect(await verify(h)).toMatchObject({ verified: false, firstBadSeq: '3', problem: expect.stringContaining('deleted') });
  });

  it('finds a deleted newest row only by count, not by hash (documented limit)', async () => {
    // Truncating the tail of a hash chain is undetectable from the chain alone; exports and backups
    // keep the last hash. Here: the remaining chain still verifies.
    const h = await freshHospital(env);
    await writeRows(env, h, 4);
    await asAttacker(env, (c) => c.query('DELETE FROM audit_logs WHERE chain_id = $1 AND seq = 4', [h]));
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 3 });
  });

  it('finds an inserted row (a fork off an earlier row)', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 5);
    await asAttacker(env, async (c) => {
      const prev = await rowAt(c, h, 3);
      // A self-consistent forged row linked to row 3 but placed at the end of the chain.
      const forged: ChainRow = {
        id: '01900000-0000-7000-8000-000000000001',
        chainId: h,
        seq: 6,
        userId: null,
        hospitalId: h,
        action: 'forged.insert',
        resource: null,
        resourceId: null,
        outcome: 'success',
        ipAddress: null,
        userAgent: null,
        sessionId: null,
        metadata: null,
        timestampMicros: Date.now() * 1000,
        retentionUntilMicros: (Date.now() + 1e11) * 1000,
        prevHash: prev.hash,
      };
      await copyAuditLines(c, [auditCopyLine(forged, rowHash(forged))]);
    });
    expect(await verify(h)).toMatchObject({ verified: false, firstBadSeq: '6', problem: expect.stringContaining('link') });
  });

  it('npm run audit:verify prints the broken chain and exits 1; 0 for intact chains', async () => {
    const broken = await freshHospital(env);
    await writeRows(env, broken, 3);
    await asAttacker(env, (c) => c.query(`UPDATE audit_logs SET metadata = '{"i": 99}' WHERE chain_id = $1 AND seq = 2`, [broken]));
    const intact = await freshHospital(env);
    await writeRows(env, intact, 3);
    const childEnv = { ...process.env, ...env.childEnv };
    const script = ['run', '--silent', 'audit:verify', '--'];
    const failed = await run('npm', script, { env: childEnv }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toMatch(new RegExp(`BROKEN .*${broken}.*first bad seq 2`));
    const ok = await run('npm', [...script, '--chain', intact], { env: childEnv });
    expect(ok.stdout).toMatch(/ok .* 3 row\(s\) verified/);
    expect(ok.stdout).toMatch(/all 1 chain\(s\) intact/);
  }, 60_000);
});

describe('audit chain: Node hashing equals SQL hashing', () => {
  it('for awkward metadata, text and timestamps', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 1);
    const metadata = {
      zeta: 1,
      a: [1, 'two', null, true, { bb: 1, a: -2 }],
      'ü': 'ünïcødé ✓ 🚑',
      quote: 'say "hi"\\ back\tslash\nline\u0001ctl',
      nested: { longer_key: { x: [] }, k: {}, kk: 0.5 },
      '': 'empty key',
    };
    const forged = await appendForgedAuditRows(env.deps.pool, h, [
      { at: Date.UTC(2024, 1, 29, 23, 59, 59, 999) * 1000 + 999, action: 'ünïcødé.action', userAgent: 'UA with\ttab and "quotes"', metadata },
      { at: new Date(Date.UTC(2020, 0, 1)), action: 'plain', metadata: null, ipAddress: '::1' },
    ]);
    const { rows } = await env.deps.db.execute<{ canonical: string }>(sql`
      SELECT jsonb_build_object('id', a.id, 'chain_id', a.chain_id, 'seq', a.seq::text, 'user_id', a.user_id, 'hospital_id', a.hospital_id,
        'action', a.action, 'resource', a.resource, 'resource_id', a.resource_id, 'outcome', a.outcome::text, 'ip_address', a.ip_address,
        'user_agent', a.user_agent, 'session_id', a.session_id, 'metadata', a.metadata,
        'timestamp', to_char(a.timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'retention_until', to_char(a.retention_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text AS canonical
      FROM audit_logs a WHERE chain_id = ${h} AND seq >= 2 ORDER BY seq`);
    expect(rows.map((r) => r.canonical)).toEqual(forged.map(canonicalText));
    // Feb 29 + 6 years clamps to Feb 28, as Postgres interval arithmetic does.
    expect(rows[0]!.canonical).toContain('"retention_until": "2030-02-28T23:59:59.999999Z"');
    await writeRows(env, h, 1); // the trigger continues the forged chain
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 4 });
  });
});

describe('audit chain: retention purge', () => {
  const yearsAgo = (y: number) => new Date(Date.now() - y * 366 * 86_400_000);

  it('purges only expired rows, only through audit_purge, and the chain still verifies from its anchor', async () => {
    const h = await freshHospital(env);
    await appendForgedAuditRows(env.deps.pool, h, Array.from({ length: 5 }, (_, i) => ({ at: new Date(yearsAgo(7).getTime() + i * 1000), action: 'old.event' })));
    await writeRows(env, h, 3);
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 8 });
    await expect(env.deps.db.execute(sql`DELETE FROM audit_logs WHERE chain_id = ${h} AND retention_until < now()`)).rejects.toMatchObject({
      cause: { code: '42501' },
    });

    const purge = async (limit: number) =>
      (await env.deps.db.execute<{ n: number }>(sql`SELECT audit_purge(${h}, ${limit}) AS n`)).rows[0]!.n;
    expect(await purge(2)).toBe(2);
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 6 });
    expect(await purge(100)).toBe(3);
    expect(await purge(100)).toBe(0); // the rest is within retention
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 3 });
    const { rows } = await env.deps.db.execute<{ seq: string }>(sql`SELECT seq::text AS seq FROM audit_chain_anchors WHERE chain_id = ${h}`);
    expect(rows[0]!.seq).toBe('5');
    await writeRows(env, h, 1);
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 4 });
  });

  it('continues a fully purged chain from its anchor', async () => {
    const h = await freshHospital(env);
    await appendForgedAuditRows(env.deps.pool, h, [{ at: yearsAgo(8), action: 'old' }, { at: yearsAgo(7), action: 'old' }]);
    expect((await env.deps.db.execute<{ n: number }>(sql`SELECT audit_purge(${h}, 10) AS n`)).rows[0]!.n).toBe(2);
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 0 });
    await writeRows(env, h, 2);
    const client = await env.deps.pool.connect();
    expect(await readChainTail(client, h)).toMatchObject({ seq: 4 });
    client.release();
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 2 });
  });
});

describe('audit chain: concurrency', () => {
  it('50 parallel writers on one hospital never fork the chain', async () => {
    const h = await freshHospital(env);
    const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 20 });
    const db = createDatabase(pool);
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => logAuditEvent(db, systemCtx(h), { action: 'parallel', metadata: { i } })));
    } finally {
      await pool.end();
    }
    const { rows } = await env.deps.db.execute<{ n: number; seqs: number; prevs: number; max: string }>(sql`
      SELECT count(*)::int AS n, count(DISTINCT seq)::int AS seqs, count(DISTINCT prev_hash)::int AS prevs, max(seq)::text AS max
      FROM audit_logs WHERE chain_id = ${h}`);
    expect(rows[0]).toEqual({ n: 50, seqs: 50, prevs: 50, max: '50' });
    expect(await verify(h)).toMatchObject({ verified: true, rowsChecked: 50 });
  });

  it('verifyChains covers every hospital chain and the system chain', async () => {
    await logAuditEvent(env.deps.db, systemCtx(null), { action: 'auth.login', outcome: 'failure' });
    const results = await verifyChains(env.deps.db);
    expect(results.map((r) => r.chainId)).toContain('system');
    expect(results.find((r) => r.chainId === 'system')).toMatchObject({ verified: true, rowsChecked: 1 });
  });
});
