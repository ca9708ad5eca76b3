import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorVerifies, chainHead, checkAnchors, recordAnchors, signAnchor, storedAnchors } from '../../server/audit/anchor.js';
import { verifyChain } from '../../server/audit/verify.js';
import { type ConfigError, DEVELOPMENT_AUDIT_ANCHOR_KEY, loadConfig } from '../../server/config.js';
import { auditExports, users } from '../../server/db/schema.js';
import { getExport } from '../../server/exports/service.js';
import { createLogger } from '../../server/logger.js';
import { takeBackup, verifyBackup } from '../../server/ops/backup.js';
import { exportProcessor } from '../../worker/processors/export.js';
import { auditAnchorProcessor } from '../../worker/processors/maintenance.js';
import { createTestEnv, LOG_DIR, type TestEnv } from '../support/env.js';
import { asAttacker, freshHospital, writeRows } from './helpers.js';

const run = promisify(execFile);
let env: TestEnv;
let key: Buffer;
const tmp = mkdtempSync(join(tmpdir(), 'clarion-anchor-'));

beforeAll(async () => {
  env = await createTestEnv({ EXPORT_DIR: join(tmp, 'exports') });
  key = env.config.secrets.auditAnchorKey;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const anchorJob = () => auditAnchorProcessor.run(env.deps, {}, env.deps.log) as Promise<{ anchored: number; refused: number }>;

/** audit:verify as an operator runs it; resolves with its exit code and output. */
async function auditVerify(...args: string[]): Promise<{ code: number; stdout: string }> {
  return run('npm', ['run', '--silent', 'audit:verify', '--', ...args], { env: { ...process.env, ...env.childEnv } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
}

/** The attacker's cover-up: the newest rows deleted (triggers off), leaving a chain that still links. */
const deleteNewest = (chainId: string, fromSeq: number) =>
  asAttacker(env, (c) => c.query('DELETE FROM audit_logs WHERE chain_id = $1 AND seq >= $2', [chainId, fromSeq]));

/** Rewrites a row and recomputes every later hash and link, as anyone who can write the table could. */
async function rewriteFrom(c: pg.Client, chainId: string, seq: number): Promise<void> {
  await c.query(`UPDATE audit_logs SET action = 'nothing.to.see' WHERE chain_id = $1 AND seq = $2`, [chainId, seq]);
  const { rows } = await c.query<{ seq: string }>('SELECT seq::text FROM audit_logs WHERE chain_id = $1 AND seq >= $2 ORDER BY seq', [chainId, seq]);
  for (const r of rows) {
    await c.query(
      `UPDATE audit_logs a SET prev_hash = coalesce((SELECT hash FROM audit_logs p WHERE p.chain_id = a.chain_id AND p.seq = a.seq - 1), prev_hash)
       WHERE chain_id = $1 AND seq = $2`,
      [chainId, r.seq],
    );
    await c.query('UPDATE audit_logs a SET hash = audit_row_hash(a) WHERE chain_id = $1 AND seq = $2', [chainId, r.seq]);
  }
}

describe('audit chain anchoring', () => {
  it('finds rows deleted from the end that plain verification cannot, and will not anchor the shortened chain', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 6);
    expect((await anchorJob()).anchored).toBeGreaterThanOrEqual(1);
    await deleteNewest(h, 5);

    expect(await verifyChain(env.deps.db, h)).toMatchObject({ verified: true, rowsChecked: 4 });
    const check = await checkAnchors(env.deps.db, key, h);
    expect(check).toMatchObject({ anchoredSeq: 6, headSeq: 4 });
    expect(check.problems).toEqual([expect.stringMatching(/chain head is seq 4, but seq 6 was anchored at .*: rows deleted from the end/)]);
    // New rows do not hide it: the next anchor run refuses to bless the chain.
    await writeRows(env, h, 1);
    expect((await anchorJob()).refused).toBeGreaterThanOrEqual(1);
    expect((await env.deps.db.execute<{ n: number }>(sql`SELECT max(seq)::int AS n FROM audit_head_anchors WHERE chain_id = ${h}`)).rows[0]!.n).toBe(6);

    const cli = await auditVerify('--chain', h);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`BROKEN .*${h}.*rows deleted from the end`));
  }, 60_000);

  it('finds a chain rewritten and recomputed by someone who can write the table', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 6);
    await anchorJob();
    await asAttacker(env, (c) => rewriteFrom(c, h, 2));
    expect(await verifyChain(env.deps.db, h)).toMatchObject({ verified: true, rowsChecked: 6 });
    const check = await checkAnchors(env.deps.db, key, h);
    expect(check.problems).toEqual([expect.stringMatching(/row seq 6 no longer has the hash anchored at .*: the chain was rewritten/)]);
  });

  it('reports an anchor row whose HMAC was made with another key (forged)', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 3);
    await anchorJob();
    const head = await chainHead(env.deps.db, h);
    // A forger who truncated the chain plants a "newer" anchor of their own: it does not verify.
    const forged = signAnchor(randomBytes(32), { ...head!, seq: head!.seq + 5 });
    await env.deps.db.execute(sql`INSERT INTO audit_head_anchors (chain_id, seq, hash, anchored_at, mac)
      VALUES (${h}, ${forged.seq}, ${forged.hash}, ${forged.anchoredAt}, ${forged.mac})`);
    const check = await checkAnchors(env.deps.db, key, h);
    expect(check.anchoredSeq).toBe(head!.seq);
    expect(check.problems).toEqual([expect.stringMatching(new RegExp(`anchor of seq ${forged.seq} .* does not verify: forged`))]);
    const cli = await auditVerify('--chain', h);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/does not verify: forged/);
  }, 60_000);

  it('survives a key rotation: anchors of the retired key verify through AUDIT_ANCHOR_PREVIOUS_KEYS and anchoring goes on', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 3);
    const retired = randomBytes(32);
    const quiet = { info: () => undefined, error: () => undefined };
    const anchoredSeqs = async () => (await storedAnchors(env.deps.db, h)).map((a) => a.seq).sort((x, y) => x - y);
    // Anchored under the key in force before the rotation…
    await recordAnchors(env.deps.db, retired, quiet);
    const before = await anchoredSeqs();
    expect(before).toHaveLength(1);
    await writeRows(env, h, 2);
    const head = await chainHead(env.deps.db, h);
    // …then the new key alone cannot tell the old anchor from a forged one, and stops anchoring the chain:
    await recordAnchors(env.deps.db, key, quiet);
    expect(await anchoredSeqs()).toEqual(before);
    // …while with the retired key listed, the old anchor verifies and the chain is anchored again.
    await recordAnchors(env.deps.db, key, quiet, [retired]);
    expect(await anchoredSeqs()).toEqual([...before, head!.seq]);
    expect((await checkAnchors(env.deps.db, [key, retired], h)).problems).toEqual([]);
    const cli = await run('npm', ['run', '--silent', 'audit:verify', '--', '--chain', h], {
      env: { ...process.env, ...env.childEnv, AUDIT_ANCHOR_PREVIOUS_KEYS: retired.toString('base64') },
    });
    expect(cli.stdout).not.toMatch(/does not verify/);
    expect(() => loadConfig({ ...env.childEnv, AUDIT_ANCHOR_PREVIOUS_KEYS: 'c2hvcnQ=' })).toThrow(/AUDIT_ANCHOR_PREVIOUS_KEYS: key 1 must be 32 bytes/);
  }, 60_000);

  it('anchor rows are append-only', async () => {
    for (const stmt of [sql`UPDATE audit_head_anchors SET seq = 0`, sql`DELETE FROM audit_head_anchors`, sql`TRUNCATE audit_head_anchors`]) {
      await expect(env.deps.db.execute(stmt)).rejects.toMatchObject({ cause: { code: '42501' } });
    }
  });
});

describe('anchors carried outside the database', () => {
  it('every export carries the signed head at its snapshot; audit:verify --anchor catches a truncation even with the anchor rows gone', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 5);
    const { rows } = await env.deps.db.execute<{ id: string }>(
      sql`INSERT INTO users (hospital_id, email, name, role, password_hash) VALUES (${h}, ${`admin-${h}@example.test`}, 'Admin', 'admin', 'x') RETURNING id`,
    );
    const adminId = rows[0]!.id;
    const [job] = await env.deps.db.insert(auditExports).values({ hospitalId: h, requestedBy: adminId, format: 'ndjson' }).returning();
    await exportProcessor.run(env.deps, { exportId: job!.id }, env.deps.log);
    const view = await getExport(env.deps.db, { id: adminId, hospitalId: h, role: 'admin', departmentId: null } as never, job!.id);
    expect(view.status).toBe('completed');
    expect(view.anchor).toMatchObject({ chainId: h, seq: 5, hash: (await chainHead(env.deps.db, h))!.hash });
    expect(anchorVerifies(key, view.anchor!)).toBe(true);
    const saved = join(tmp, `export-${job!.id}.json`);
    writeFileSync(saved, JSON.stringify(view));

    // The attacker deletes the newest rows and every stored anchor of this chain.
    await deleteNewest(h, 4);
    await asAttacker(env, (c) => c.query('DELETE FROM audit_head_anchors WHERE chain_id = $1', [h]));
    expect((await auditVerify('--chain', h)).code).toBe(0);
    const cli = await auditVerify('--chain', h, '--anchor', saved);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/chain head is seq 3, but seq 5 was anchored .*rows deleted from the end/);
    await env.deps.db.delete(users).where(eq(users.id, adminId)).catch(() => undefined);
  }, 60_000);

  it('every backup manifest carries each chain head signed in the dump snapshot, and restore-verify checks them', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 4);
    const dir = join(tmp, 'backups');
    const b = await takeBackup({ databaseUrl: env.databaseUrl, dir, keep: 1, anchorKey: key });
    const manifest = JSON.parse(readFileSync(`${b.path}.json`, 'utf8')) as { auditAnchors: { chainId: string; seq: number }[] };
    const mine = manifest.auditAnchors.find((a) => a.chainId === h);
    expect(mine).toMatchObject({ seq: 4 });
    for (const a of b.auditAnchors) expect(anchorVerifies(key, a)).toBe(true);
    // This chain restores intact; the chains tampered with above are reported against their anchors.
    const verified = await verifyBackup({ path: b.path, databaseUrl: env.databaseUrl, anchorKey: key });
    expect(verified.problems.filter((p) => p.includes(h))).toEqual([]);
    expect(verified.problems).toContainEqual(expect.stringMatching(/rows deleted from the end/));

    await deleteNewest(h, 3);
    const cli = await auditVerify('--chain', h, '--anchor', `${b.path}.json`);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/chain head is seq 2, but seq 4 was anchored .*rows deleted from the end/);
  }, 120_000);
});

describe('the anchor key', () => {
  it('production refuses a missing or development key; other profiles default to the development key', () => {
    const prod = {
      CLARION_ENV: 'production',
      DATABASE_URL: 'postgres://x@db/clarion',
      REDIS_URL: 'redis://redis:6379/0',
      TOTP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TOKEN_SIGNING_SECRET: 'p'.repeat(40),
    };
    const problems = (source: Record<string, string>) => {
      try {
        loadConfig(source);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems(prod)).toContainEqual(expect.stringMatching(/^AUDIT_ANCHOR_KEY: required in production/));
    expect(problems({ ...prod, AUDIT_ANCHOR_KEY: DEVELOPMENT_AUDIT_ANCHOR_KEY })).toContainEqual(expect.stringMatching(/development key is refused/));
    expect(problems({ ...prod, AUDIT_ANCHOR_KEY: 'short' })).toContainEqual('AUDIT_ANCHOR_KEY: must be 32 bytes, base64-encoded');
    expect(problems({ ...prod, AUDIT_ANCHOR_KEY: randomBytes(32).toString('base64') })).toEqual([]);
    expect(loadConfig({ CLARION_ENV: 'test' }).secrets.auditAnchorKey.toString('base64')).toBe(DEVELOPMENT_AUDIT_ANCHOR_KEY);
  });

  it('is never logged, while the anchors themselves are', async () => {
    const h = await freshHospital(env);
    await writeRows(env, h, 2);
    // Into memory as well as this file's log (another run may clear test-artifacts/logs meanwhile).
    const memory: string[] = [];
    const log = createLogger({ ...env.config, logLevel: 'debug' }, { write: (line: string) => void memory.push(line) });
    await recordAnchors(env.deps.db, key, log);
    await auditAnchorProcessor.run({ ...env.deps, log }, {}, log);
    const cli = await auditVerify('--chain', h);
    const files = existsSync(LOG_DIR) ? readdirSync(LOG_DIR).filter((f) => f.startsWith('anchor.int.test.ts.')) : [];
    const logs = [...memory, ...files.map((f) => readFileSync(join(LOG_DIR, f), 'utf8'))].join('\n');
    expect(logs).toContain('audit chain head anchored');
    for (const text of [logs, cli.stdout]) {
      expect(text).not.toContain(key.toString('base64'));
      expect(text).not.toContain(key.toString('hex'));
    }
  }, 60_000);
});
