import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { departments, hospitals, sessions, users } from '../db/schema.js';
import { readSettings } from '../hospitals/settings.js';
import type { Actor, Role } from '../permissions.js';

export interface AuthUser extends Actor {
  email: string;
  name: string;
  role: Role;
  departmentName: string | null;
  mustChangePassword: boolean;
  /** The hospital requires 2FA for this role, the user has none and this session did not pass it. */
  mustSetupTwoFactor: boolean;
  twoFactorEnabled: boolean;
}

export interface AuthSession {
  user: AuthUser;
  session: { id: string; expiresAt: Date; twoFactorVerified: boolean };
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Opens a session and returns the opaque token; only its SHA-256 is stored. */
export async function createSession(
  db: Tx,
  input: { userId: string; hospitalId: string; hours: number; ip: string | null; userAgent: string | null; twoFactorVerified: boolean },
): Promise<{ token: string; sessionId: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + input.hours * 3_600_000);
  const [row] = await db
    .insert(sessions)
    .values({
      userId: input.userId,
      hospitalId: input.hospitalId,
      tokenHash: hashToken(token),
      expiresAt,
      ipAddress: input.ip,
      userAgent: input.userAgent,
      twoFactorVerified: input.twoFactorVerified,
    })
    .returning({ id: sessions.id });
  return { token, sessionId: (row as { id: string }).id, expiresAt };
}

const TOUCH_EVERY_MS = 60_000;

/**
 * The live session for a token, or null when unknown, revoked, expired, idle too long or the user is
 * deactivated. Refreshes last-seen at most once a minute so busy boards do not write on every call.
 */
export async function resolveSession(db: Tx, token: string, idleMinutes: number): Promise<AuthSession | null> {
  if (token.length > 256) return null;
  return resolveSessionByHash(db, hashToken(token), idleMinutes);
}

/** resolveSession for a token already hashed: a socket keeps only the hash, to re-check on every call. */
export async function resolveSessionByHash(db: Tx, tokenHash: string, idleMinutes: number): Promise<AuthSession | null> {
  const [row] = await db
    .select({
      sessionId: sessions.id,
      expiresAt: sessions.expiresAt,
      lastSeenAt: sessions.lastSeenAt,
      twoFactorVerified: sessions.twoFactorVerified,
      id: users.id,
      hospitalId: users.hospitalId,
      departmentId: users.departmentId,
      departmentName: departments.name,
      role: users.role,
      email: users.email,
      name: users.name,
      mustChangePassword: users.mustChangePassword,
      twoFactorEnabled: users.twoFactorEnabled,
      requireTwoFactorFor: sql<unknown>`${hospitals.settings} -> 'requireTwoFactorFor'`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(hospitals, eq(hospitals.id, users.hospitalId))
    .leftJoin(departments, eq(departments.id, users.departmentId))
    .where(
      and(
        eq(sessions.tokenHash, tokenHash),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
        gt(sessions.lastSeenAt, sql`now() - make_interval(mins => ${idleMinutes})`),
        eq(users.isActive, true),
      ),
    )
    .limit(1);
  if (!row) return null;
  if (Date.now() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.update(sessions).set({ lastSeenAt: sql`now()` }).where(eq(sessions.id, row.sessionId));
  }
  const { sessionId, expiresAt, lastSeenAt: _seen, twoFactorVerified, requireTwoFactorFor, ...rest } = row;
  const user: AuthUser = {
    ...rest,
    mustSetupTwoFactor: mustSetupTwoFactor(readSettings({ requireTwoFactorFor: requireTwoFactorFor ?? undefined }).requireTwoFactorFor, rest, twoFactorVerified),
  };
  return { user, session: { id: sessionId, expiresAt, twoFactorVerified } };
}

/**
 * A user of a role the hospital requires 2FA for, without 2FA, is held to the auth procedures until
 * they set it up. A session that passed a second factor (or was opened as verified) is not held.
 */
export function mustSetupTwoFactor(requiredFor: readonly Role[], user: { role: Role; twoFactorEnabled: boolean }, sessionVerified: boolean): boolean {
  return requiredFor.includes(user.role) && !user.twoFactorEnabled && !sessionVerified;
}

/** Records that this session has passed a second factor (after enableTwoFactor). */
export async function markSessionTwoFactorVerified(db: Tx, sessionId: string): Promise<void> {
  await db.update(sessions).set({ twoFactorVerified: true }).where(eq(sessions.id, sessionId));
}

/** Revokes sessions; returns the ids revoked (so live sockets can be closed). */
export async function revokeSessions(
  db: Tx,
  where: { userId: string; exceptSessionId?: string } | { sessionId: string },
  reason: string,
): Promise<string[]> {
  const cond =
    'sessionId' in where
      ? eq(sessions.id, where.sessionId)
      : and(eq(sessions.userId, where.userId), where.exceptSessionId ? sql`${sessions.id} <> ${where.exceptSessionId}` : undefined);
  const rows = await db
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(cond, isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.map((r) => r.id);
}
