import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AuthUser } from '../auth/sessions.js';
import type { Tx } from '../db/client.js';
import { sessions, users } from '../db/schema.js';

/**
 * A long-lived socket's context was built once at connect. This re-checks it: the session is still
 * live (not revoked, expired or idle) and the user still active with the same role and department.
 * It also refreshes last-seen, so an open board keeps its session from idling out.
 */
export async function sessionStillValid(db: Tx, sessionId: string, user: AuthUser, idleMinutes: number): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ lastSeenAt: sql`now()` })
    .where(
      and(
        eq(sessions.id, sessionId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
        gt(sessions.lastSeenAt, sql`now() - make_interval(mins => ${idleMinutes})`),
        sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${sessions.userId} AND ${users.isActive}
              AND ${users.role} = ${user.role} AND ${users.departmentId} IS NOT DISTINCT FROM ${user.departmentId})`,
      ),
    )
    .returning({ id: sessions.id });
  return rows.length > 0;
}
