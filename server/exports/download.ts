import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { and, eq } from 'drizzle-orm';
import { logAuditEvent } from '../audit/log.js';
import { resolveSession } from '../auth/sessions.js';
import { auditExports } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { bearerToken, clientIp, userAgent } from '../http/client-info.js';
import { can } from '../permissions.js';

export const DOWNLOAD_PATH = /^\/exports\/([A-Za-z0-9-]{1,64})\/download$/;

function refuse(res: ServerResponse, status: 401 | 404): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: status === 401 ? 'sign in to continue' : 'not found' }));
}

/**
 * GET /exports/:id/download — the file, to an admin of the export's hospital only (bearer token or
 * session cookie). Anyone else, whatever the reason, gets 404: it never reveals that an export exists.
 */
export async function handleExportDownload(deps: AppDeps, req: IncomingMessage, res: ServerResponse, exportId: string): Promise<void> {
  const token = bearerToken(req);
  const auth = token ? await resolveSession(deps.db, token, deps.config.auth.sessionIdleMinutes) : null;
  if (!auth) return refuse(res, 401);
  if (!can(auth.user.role, 'audit.export')) return refuse(res, 404);
  const [row] = await deps.db
    .select()
    .from(auditExports)
    .where(and(eq(auditExports.id, exportId), eq(auditExports.hospitalId, auth.user.hospitalId)));
  if (row?.status !== 'completed' || !row.filePath) return refuse(res, 404);
  const size = await stat(row.filePath).then((s) => s.size).catch(() => null);
  if (size === null) return refuse(res, 404);
  await logAuditEvent(
    deps.db,
    { userId: auth.user.id, hospitalId: auth.user.hospitalId, ip: clientIp(req, deps.config.auth.trustProxyHops), userAgent: userAgent(req), sessionId: auth.session.id },
    { action: 'audit.export_downloaded', resource: 'audit_export', resourceId: row.id, metadata: { rows: row.rowCount, sha256: row.sha256 } },
  );
  res.writeHead(200, {
    'content-type': 'application/gzip',
    'content-length': String(size),
    'content-disposition': `attachment; filename="clarion-audit-${row.id}.${row.format}.gz"`,
    'x-content-sha256': row.sha256 ?? '',
    'cache-control': 'no-store',
  });
  createReadStream(row.filePath).pipe(res);
}
