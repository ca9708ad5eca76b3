import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { and, asc, count, eq, gt, gte, lte, type SQL, sql } from 'drizzle-orm';
import { chainHead, signAnchor } from '../../server/audit/anchor.js';
import { auditExports, auditLogs } from '../../server/db/schema.js';
import type { AppDeps } from '../../server/deps.js';
import type { ExportFilters } from '../../server/exports/schemas.js';
import { exportPayload } from '../../server/jobs/queues.js';
import type { Processor } from '../registry.js';

const BATCH = 5_000;
const columns = ['seq', 'id', 'timestamp', 'user_id', 'action', 'resource', 'resource_id', 'outcome', 'ip_address', 'user_agent', 'session_id', 'metadata', 'hash'] as const;

function filterWhere(hospitalId: string, f: ExportFilters): SQL {
  const conds: (SQL | undefined)[] = [eq(auditLogs.chainId, hospitalId)];
  if (f.from) conds.push(gte(auditLogs.timestamp, new Date(f.from)));
  if (f.to) conds.push(lte(auditLogs.timestamp, new Date(f.to)));
  if (f.userId) conds.push(eq(auditLogs.userId, f.userId));
  if (f.action) conds.push(eq(auditLogs.action, f.action));
  if (f.resource) conds.push(eq(auditLogs.resource, f.resource));
  if (f.outcome) conds.push(eq(auditLogs.outcome, f.outcome));
  return and(...conds) as SQL;
}

// Cells an attacker controls (a User-Agent, a resource id) must not run as formulas when an admin
// opens the file in a spreadsheet: csv-stringify prefixes = + - @ tab CR (and their full-width forms)
// with a single quote, per OWASP's CSV injection guidance. NDJSON is data, not a sheet: kept exact.
const csvOptions = { escape_formulas: true } as const;

/** Pages the chain by seq (its unique index) so memory stays constant whatever the size. */
async function* batches(deps: AppDeps, where: SQL, format: 'csv' | 'ndjson', onRows: (n: number) => Promise<void>) {
  if (format === 'csv') yield stringify([columns as unknown as string[]], csvOptions);
  let after = 0;
  for (;;) {
    const rows = await deps.db
      .select()
      .from(auditLogs)
      .where(and(where, gt(auditLogs.seq, after)))
      .orderBy(asc(auditLogs.seq))
      .limit(BATCH);
    if (!rows.length) return;
    const records = rows.map((r) => ({
      seq: r.seq,
      id: r.id,
      timestamp: r.timestamp.toISOString(),
      user_id: r.userId,
      action: r.action,
      resource: r.resource,
      resource_id: r.resourceId,
      outcome: r.outcome,
      ip_address: r.ipAddress,
      user_agent: r.userAgent,
      session_id: r.sessionId,
      metadata: r.metadata,
      hash: r.hash,
    }));
    yield format === 'csv'
      ? stringify(records.map((r) => columns.map((c) => (c === 'metadata' ? JSON.stringify(r.metadata ?? null) : (r[c] ?? '')))), csvOptions)
      : `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
    after = rows[rows.length - 1]!.seq;
    await onRows(rows.length);
  }
}

/** Streams the matching audit rows into a gzip'd file, reporting progress; idempotent on retry. */
export const exportProcessor: Processor<typeof exportPayload> = {
  queue: 'exports',
  name: 'export',
  schema: exportPayload,
  async run(deps, { exportId }, log) {
    const [job] = await deps.db.select().from(auditExports).where(eq(auditExports.id, exportId));
    if (!job || job.status === 'completed' || job.status === 'expired') return { skipped: true };
    await deps.db.update(auditExports).set({ status: 'running', startedAt: sql`now()`, progress: 0, rowCount: 0, error: null }).where(eq(auditExports.id, exportId));
    // An export is of the log as it was when requested, however long the job waits or runs.
    const filters = job.filters as ExportFilters;
    const where = filterWhere(job.hospitalId, { ...filters, to: filters.to ?? job.createdAt.toISOString() });
    const [{ total } = { total: 0 }] = await deps.db.select({ total: count() }).from(auditLogs).where(where);
    const dir = resolve(deps.config.exports.dir);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${exportId}.${job.format}.gz`);
    const hash = createHash('sha256');
    let done = 0;
    try {
      const source = Readable.from(
        batches(deps, where, job.format, async (n) => {
          done += n;
          const progress = total ? Math.min(99, Math.floor((done / total) * 100)) : 99;
          await deps.db.update(auditExports).set({ progress, rowCount: done }).where(eq(auditExports.id, exportId));
        }),
      );
      const gzip = createGzip();
      gzip.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(source, gzip, createWriteStream(`${file}.partial`));
      await rename(`${file}.partial`, file);
    } catch (err) {
      await deps.db.update(auditExports).set({ status: 'failed', error: err instanceof Error ? err.message.slice(0, 500) : 'failed' }).where(eq(auditExports.id, exportId));
      throw err;
    }
    const expiresAt = new Date(Date.now() + deps.config.exports.retentionDays * 86_400_000);
    // The signed head of the whole chain at the snapshot, whatever the filters: kept with the export
    // (and sent with its download) so a later truncation or rewrite of the chain shows against it.
    const head = await chainHead(deps.db, job.hospitalId, job.createdAt);
    const anchor = head ? signAnchor(deps.config.secrets.auditAnchorKey, head) : null;
    await deps.db
      .update(auditExports)
      .set({ status: 'completed', progress: 100, rowCount: done, filePath: file, sha256: hash.digest('hex'), completedAt: sql`now()`, expiresAt, anchor })
      .where(eq(auditExports.id, exportId));
    log.info({ exportId, rows: done }, 'export completed');
    return { rows: done };
  },
};
