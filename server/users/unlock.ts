import { eq, sql } from 'drizzle-orm';
import { logAuditEvent } from '../audit/log.js';
import { clearFailures } from '../auth/lockout.js';
import { users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import type { User } from './schemas.js';
import { type Caller, findUser, lockUser } from './shared.js';

/**
 * An admin's Unlock: clears the user's failed sign-in counts and every (account, address) lock
 * (server/auth/lockout.ts), and a lock set by hand. Open sessions are untouched (a lockout never
 * ended them). Another hospital's user is NOT_FOUND.
 */
export async function unlockUser(deps: Pick<AppDeps, 'db'>, caller: Caller, userId: string): Promise<{ user: User; clearedLocks: number }> {
  const hospitalId = caller.actor.hospitalId;
  return deps.db.transaction(async (tx) => {
    const before = await lockUser(tx, hospitalId, userId);
    const clearedLocks = await clearFailures(tx, userId);
    await tx.update(users).set({ isLocked: false, lockoutUntil: null, failedLoginAttempts: 0, updatedAt: sql`now()` }).where(eq(users.id, userId));
    await logAuditEvent(tx, caller.audit, { action: 'user.unlocked', resource: 'user', resourceId: userId, metadata: { clearedLocks, wasLocked: before.isLocked } });
    return { user: (await findUser(tx, hospitalId, userId)) as User, clearedLocks };
  });
}
