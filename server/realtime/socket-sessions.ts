import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { sessions, users } from '../db/schema.js';
import type { Role } from '../permissions.js';

/** Who a socket speaks for; a socket whose session no longer resolves to exactly this is closed. */
export interface SocketIdentity {
  sessionId: string;
  userId: string;
  hospitalId: string;
  role: Role;
  departmentId: string | null;
}

export const sameIdentity = (a: SocketIdentity, b: SocketIdentity) =>
  a.sessionId === b.sessionId && a.userId === b.userId && a.hospitalId === b.hospitalId && a.role === b.role && a.departmentId === b.departmentId;

/**
 * The identities of those sessions that are still live (not revoked, expired or idle, user active).
 * Read-only: an open socket that makes no calls must not keep its session from idling out (a live
 * subscription refreshes last-seen on its own).
 */
export async function liveIdentities(db: Tx, sessionIds: string[], idleMinutes: number): Promise<Map<string, SocketIdentity>> {
  const live = new Map<string, SocketIdentity>();
  for (let i = 0; i < sessionIds.length; i += 1_000) {
    const rows = await db
      .select({ sessionId: sessions.id, userId: users.id, hospitalId: users.hospitalId, role: users.role, departmentId: users.departmentId })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          inArray(sessions.id, sessionIds.slice(i, i + 1_000)),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, sql`now()`),
          gt(sessions.lastSeenAt, sql`now() - make_interval(mins => ${idleMinutes})`),
          eq(users.isActive, true),
        ),
      );
    for (const row of rows) live.set(row.sessionId, row);
  }
  return live;
}
