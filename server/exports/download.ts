import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { and, eq, sql } from 'drizzle-orm';
import { logAuditEvent } from '../audit/log.js';
import { pendingAccountStep } from '../auth/gate.js';
import { resolveSession } from '../auth/sessions.js';
import { auditExports } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { bearerToken, clientIp, userAgent } from '../http/client-info.js';
import { can } from '../permissions.js';

export const DOWNLOAD_PATH = /^\/exports\/([A-Za-z0-9-]{1,64})\/download$/;

const refusals = {
  401: 'sign in to continue',
  404: 'not found',
  expired: 'this export has expired; request a new one',
  gone: "this export's file is no longer available; request a new one",
} as const;

function refuse(res: ServerResponse, status: 401 | 403 | 404 | 410, error: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error }));
}

/**
 * GET /exports/:id/download — the file, to an admin of the export's hospital only (bearer token or
 * session cookie), held to the same account gates as every procedure (403 until the password is
 * changed or 2FA set up). Anyone else, whatever the reason, gets 404: it never reveals that an export
 * exists. An export past its expiresAt, or whose file has gone, is 410 Gone to its own admins.
 */
export async function handleExportDownload(deps: AppDeps, req: IncomingMessage, res: ServerResponse, exportId: string): Promise<void> {
  const token = bearerToken(req);
  const auth = token ? await resolveSession(deps.db, token, deps.config.auth.sessionIdleMinutes) : null;
  if (!auth) return refuse(res, 401, refusals[401]);
  const pending = pendingAccountStep(auth.user);
  if (pending) return refuse(res, 403, pending);
  if (!can(auth.user.role, 'audit.export')) return refuse(res, 404, refusals[404]);
  const [row] = await deps.db
    .select({
      id: auditExports.id,
      status: auditExports.status,
      format: auditExports.format,
      filePath: auditExports.filePath,
      rowCount: auditExports.rowCount,
      sha256: auditExports.sha256,
      anchor: auditExports.anchor,
      // Database time, the clock the worker's cleanup compares with.
      expired: sql<boolean>`${auditExports.expiresAt} IS NOT NULL AND ${auditExports.expiresAt} <= now()`,
    })
    .from(auditExports)
    .where(and(eq(auditExports.id, exportId), eq(auditExports.hospitalId, auth.user.hospitalId)));
  if (row && (row.status === 'expired' || (row.status === 'completed' && row.expired))) return refuse(res, 410, refusals.expired);
  if (row?.status !== 'completed' || !row.filePath) return refuse(res, 404, refusals[404]);

  // Open first, then stat the open file: once open, the hourly cleanup's unlink cannot take the bytes
  // away mid-download (POSIX keeps an unlinked open file readable), so there is no stat-then-read race.
  const file = await open(row.filePath, 'r').catch(() => null);
  const size = file ? await file.stat().then((s) => (s.isFile() ? s.size : null), () => null) : null;
  if (!file || size === null) {
    await file?.close().catch(() => undefined);
    return refuse(res, 410, refusals.gone);
  }
  const log = deps.log.child({ exportId: row.id, userId: auth.user.id });
  try {
    await logAuditEvent(
      deps.db,
      { userId: auth.user.id, hospitalId: auth.user.hospitalId, ip: clientIp(req, deps.config.auth.trustProxyHops), userAgent: userAgent(req), sessionId: auth.session.id },
      { action: 'audit.export_downloaded', resource: 'audit_export', resourceId: row.id, metadata: { rows: row.rowCount, sha256: row.sha256 } },
    );
  } catch (err) {
    await file.close().catch(() => undefined);
    throw err;
  }
  res.writeHead(200, {
    'content-type': 'application/gzip',
    'content-length': String(size),
    'content-disposition': `attachment; filename="clarion-audit-${row.id}.${row.format}.gz"`,
    'x-content-sha256': row.sha256 ?? '',
    // The signed chain head at the snapshot (hex and ids only: header-safe), to keep with the file.
    ...(row.anchor ? { 'x-clarion-audit-anchor': JSON.stringify(row.anchor) } : {}),
    'cache-control': 'no-store',
  });
  // A read that fails after the 200 went out can only abort this response (the client sees a short
  // body against content-length and the checksum header); it is logged, never thrown.
  await pipeline(file.createReadStream(), res).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.warn({ err: err.message, code: err.code }, 'export download aborted: the file could not be read');
    res.destroy();
  });
}
