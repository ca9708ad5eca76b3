import { and, desc, eq } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Anchor } from '../audit/schemas.js';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { auditExports } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { Actor } from '../permissions.js';
import { exportJobOptions } from './requeue.js';
import type { ExportFilters, ExportView } from './schemas.js';

type ExportRow = typeof auditExports.$inferSelect;

export function toExportView(row: ExportRow): ExportView {
  return {
    id: row.id,
    status: row.status,
    format: row.format,
    progress: row.progress,
    rowCount: row.rowCount,
    sha256: row.sha256,
    filters: row.filters as ExportFilters,
    error: row.error,
    createdAt: toIso(row.createdAt),
    completedAt: toIsoOrNull(row.completedAt),
    expiresAt: toIsoOrNull(row.expiresAt),
    downloadUrl: row.status === 'completed' ? `/exports/${row.id}/download` : null,
    anchor: (row.anchor as Anchor | null) ?? null,
  };
}

/** Records the request and queues the job (after commit). A failed enqueue leaves it queued for a retry. */
export async function requestExport(
  deps: Pick<AppDeps, 'db' | 'queues' | 'log'>,
  actor: Actor,
  audit: AuditContext,
  input: ExportFilters & { format: 'csv' | 'ndjson' },
): Promise<{ id: string }> {
  const { format, ...filters } = input;
  const row = await deps.db.transaction(async (tx) => {
    const [created] = await tx.insert(auditExports).values({ hospitalId: actor.hospitalId, requestedBy: actor.id, format, filters }).returning();
    await logAuditEvent(tx, audit, { action: 'audit.export_requested', resource: 'audit_export', resourceId: created!.id, metadata: { format, filters } });
    return created as ExportRow;
  });
  await deps.queues.exports.add('export', { exportId: row.id }, exportJobOptions(row.id)).catch((err) => {
    deps.log.error({ err: err.message, exportId: row.id }, 'export job not queued; the worker\'s sweeper queues it again');
  });
  return { id: row.id };
}

export async function getExport(db: Tx, actor: Actor, id: string): Promise<ExportView> {
  const [row] = await db.select().from(auditExports).where(and(eq(auditExports.id, id), eq(auditExports.hospitalId, actor.hospitalId)));
  if (!row) throw notFound('Export');
  return toExportView(row);
}

export async function listExports(db: Tx, actor: Actor, limit: number): Promise<ExportView[]> {
  const rows = await db.select().from(auditExports).where(eq(auditExports.hospitalId, actor.hospitalId)).orderBy(desc(auditExports.createdAt)).limit(limit);
  return rows.map(toExportView);
}
