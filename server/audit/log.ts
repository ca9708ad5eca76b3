import type { Tx } from '../db/client.js';
import { auditLogs } from '../db/schema.js';

export interface AuditContext {
  userId: string | null;
  hospitalId: string | null;
  ip: string | null;
  userAgent: string | null;
  sessionId: string | null;
}

export interface AuditEntry {
  action: string;
  resource?: string;
  resourceId?: string | null;
  outcome?: 'success' | 'failure';
  metadata?: Record<string, unknown>;
}

const SECRET_KEYS = /pass(word)?|token|secret|totp|backup|authorization|cookie/i;

/** Metadata never carries a secret, whatever a caller passes. */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : scrub(v, depth + 1)]),
  );
}

/**
 * Appends an audit row. Chain fields (seq, hashes, timestamp, retention) are set by the database
 * trigger under the hospital lock. Pass the transaction of the change it records; for a refused
 * action pass the pool so the row survives the refusal's rollback.
 */
export async function logAuditEvent(db: Tx, ctx: AuditContext, entry: AuditEntry): Promise<void> {
  await db.insert(auditLogs).values({
    userId: ctx.userId,
    hospitalId: ctx.hospitalId,
    action: entry.action,
    resource: entry.resource ?? null,
    resourceId: entry.resourceId ?? null,
    outcome: entry.outcome ?? 'success',
    ipAddress: ctx.ip,
    userAgent: ctx.userAgent,
    sessionId: ctx.sessionId,
    metadata: entry.metadata ? scrub(entry.metadata) : null,
  });
}
