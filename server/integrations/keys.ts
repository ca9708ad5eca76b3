import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { apiKeys } from '../db/schema.js';
import { conflict, notFound } from '../errors.js';
import type { Actor } from '../permissions.js';
import type { ApiKey, ApiKeyScope, CreateKeyInput } from './schemas.js';

/**
 * API keys (DESIGN.md "Integrations"): `clk_` + 32 random bytes, shown once. Stored as SHA-256 —
 * enough for a 256-bit random secret, and an exact index lookup on every request.
 */
export const KEY_PREFIX = 'clk_';
const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

type Row = typeof apiKeys.$inferSelect;
const toKey = (r: Row): ApiKey => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes as ApiKeyScope[],
  keyPrefix: r.keyPrefix,
  expiresAt: toIsoOrNull(r.expiresAt),
  revokedAt: toIsoOrNull(r.revokedAt),
  lastUsedAt: toIsoOrNull(r.lastUsedAt),
  heartbeatSeconds: r.heartbeatSeconds,
  createdAt: toIso(r.createdAt),
});

export async function createKey(db: Tx, audit: AuditContext, actor: Actor, input: CreateKeyInput): Promise<ApiKey & { key: string }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        hospitalId: actor.hospitalId,
        name: input.name,
        scopes: [...new Set(input.scopes)],
        keyHash: hashKey(key),
        keyPrefix: key.slice(0, KEY_PREFIX.length + 6),
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        heartbeatSeconds: input.heartbeatSeconds ?? null,
        createdBy: actor.id,
      })
      .onConflictDoNothing({ target: [apiKeys.hospitalId, apiKeys.name] })
      .returning();
    if (!row) throw conflict(`A key named "${input.name}" exists already`);
    await logAuditEvent(tx, audit, { action: 'api_key.created', resource: 'api_key', resourceId: row.id, metadata: { name: row.name, scopes: row.scopes, expiresAt: input.expiresAt ?? null } });
    return { ...toKey(row), key };
  });
}

export async function listKeys(db: Tx, hospitalId: string): Promise<ApiKey[]> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.hospitalId, hospitalId)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return rows.map(toKey);
}

/** Revoking twice is not an error (the second changes nothing and is not audited). */
export async function revokeKey(db: Tx, audit: AuditContext, actor: Actor, keyId: string): Promise<ApiKey> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(and(eq(apiKeys.hospitalId, actor.hospitalId), eq(apiKeys.id, keyId)))
      .returning();
    if (!row) throw notFound('API key');
    await logAuditEvent(tx, audit, { action: 'api_key.revoked', resource: 'api_key', resourceId: row.id, metadata: { name: row.name } });
    return toKey(row);
  });
}

/** Who a request's bearer key is, for the REST and FHIR routes. */
export interface KeyCaller {
  keyId: string;
  hospitalId: string;
  name: string;
  scopes: ApiKeyScope[];
}

/** Valid keys are remembered for a second: a revocation takes effect on every instance within one. */
const CACHE_MS = 1_000;
const cache = new Map<string, { caller: KeyCaller | null; at: number }>();

/**
 * The caller behind `Authorization: Bearer clk_…`, or null for a missing, unknown, revoked or expired
 * key. Marks the key used (at most every 10 s per key, so a busy feed does not write on every call).
 */
export async function authenticateKey(db: Tx, token: string | undefined): Promise<KeyCaller | null> {
  if (!token?.startsWith(KEY_PREFIX) || token.length > 100) return null;
  const hash = hashKey(token);
  const hit = cache.get(hash);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.caller;
  const { rows } = await db.execute<{ id: string; hospital_id: string; name: string; scopes: ApiKeyScope[] }>(sql`
    UPDATE api_keys SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < now() - interval '10 seconds' THEN now() ELSE last_used_at END
    WHERE key_hash = ${hash} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    RETURNING id, hospital_id, name, scopes`);
  const r = rows[0];
  const caller = r ? { keyId: r.id, hospitalId: r.hospital_id, name: r.name, scopes: r.scopes } : null;
  if (cache.size > 10_000) cache.clear();
  cache.set(hash, { caller, at: Date.now() });
  return caller;
}

/** The audit context of a key's request: no user, the key named as the actor. */
export const keyAudit = (caller: KeyCaller, ip: string | null): AuditContext => ({ userId: null, hospitalId: caller.hospitalId, ip, userAgent: `api:${caller.name}`, sessionId: null });
