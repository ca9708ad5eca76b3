import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { loginFailures } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { addressGroup } from './address.js';
import { countLoginAttempt } from './throttle.js';

/**
 * The account protection behind the Redis throttle, in Postgres so it holds with Redis down. An
 * outsider must not be able to lock a ward out, so failures are counted twice:
 * - per (subject, client address): `lockoutThreshold` failures lock that pair only, for
 *   `lockoutMinutes`, doubling with every failure after a lock ran out (capped at a day);
 * - per subject from everywhere (ip '*'): past the threshold each answer is delayed, doubling from
 *   250 ms up to `loginDelayMaxMs`, and never refused: the nurse at the ward's own address still gets in.
 * An attempt is counted before the password is checked, so parallel guesses cannot outrun the count;
 * a success clears the pair and the account-wide count, a step that is not a failure gives it back.
 * The subject is the user's id, or a hash of an unknown email, so unknown accounts answer alike.
 */

export const ACCOUNT_WIDE = '*';
const BASE_DELAY_MS = 250;
const MAX_LOCK_SECONDS = 24 * 3600;
/** A count with no failure for this long starts again. */
const FORGET_AFTER = sql`interval '24 hours'`;

export interface Attempt {
  subject: string;
  ip: string;
  /** This pair's failures, this attempt included. */
  pairFailures: number;
  /** True when this attempt, if it fails, locked the pair (the lock is written up front). */
  locksOnFailure: boolean;
  lockMinutes: number;
}

export const emailSubject = (email: string) => `email:${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32)}`;

export const LOCKED_MESSAGE = 'Too many failed attempts from this device; try again later or ask an administrator to unlock your account';

/** The delay an attempt waits after `failures` earlier failures from everywhere. */
export function accountDelayMs(config: AppDeps['config']['auth'], failures: number): number {
  if (failures < config.lockoutThreshold) return 0;
  return Math.min(config.loginDelayMaxMs, BASE_DELAY_MS * 2 ** Math.min(failures - config.lockoutThreshold, 16));
}

/**
 * Counts the attempt (one statement: the pair, then the account-wide row) and waits the account's
 * delay. Returns null when the pair is locked: the caller refuses without checking the password.
 */
export async function beginAttempt(deps: Pick<AppDeps, 'db' | 'config'>, subject: string, clientIp: string): Promise<Attempt | null> {
  const ip = addressGroup(clientIp);
  const { lockoutThreshold: t, lockoutMinutes: m } = deps.config.auth;
  const next = sql`(CASE WHEN f.last_failed_at < now() - ${FORGET_AFTER} THEN 1 ELSE f.failures + 1 END)`;
  const lockFor = (n: SQL) =>
    sql`CASE WHEN ${n} >= ${t} THEN now() + make_interval(secs => least(${MAX_LOCK_SECONDS}, ${m * 60} * power(2, least(${n} - ${t}, 20)))) END`;
  const { rows } = await deps.db.execute<{ pair: number | null; account: number | null }>(sql`
    WITH pair AS (
      INSERT INTO login_failures AS f (subject, ip, failures, last_failed_at, locked_until)
      VALUES (${subject}, ${ip}, 1, now(), ${lockFor(sql`1`)})
      ON CONFLICT (subject, ip) DO UPDATE SET failures = ${next}, last_failed_at = now(), locked_until = ${lockFor(next)}
      WHERE f.locked_until IS NULL OR f.locked_until <= now()
      RETURNING f.failures
    ), account AS (
      INSERT INTO login_failures AS f (subject, ip, failures, last_failed_at)
      SELECT ${subject}, ${ACCOUNT_WIDE}, 1, now() WHERE EXISTS (SELECT 1 FROM pair)
      ON CONFLICT (subject, ip) DO UPDATE SET failures = ${next}, last_failed_at = now()
      RETURNING f.failures
    )
    SELECT (SELECT failures FROM pair) AS pair, (SELECT failures FROM account) AS account`);
  const row = rows[0];
  if (!row || row.pair === null) return null;
  const delay = accountDelayMs(deps.config.auth, (row.account ?? 1) - 1);
  if (delay > 0) await sleep(delay);
  const pairFailures = Number(row.pair);
  return {
    subject,
    ip,
    pairFailures,
    locksOnFailure: pairFailures >= t,
    lockMinutes: Math.min(MAX_LOCK_SECONDS / 60, m * 2 ** Math.min(pairFailures - t, 20)),
  };
}

/** The password was right (and any second factor): the pair and the account-wide count start over. */
export async function attemptSucceeded(db: Tx, attempt: Pick<Attempt, 'subject' | 'ip'>): Promise<void> {
  await db.delete(loginFailures).where(and(eq(loginFailures.subject, attempt.subject), inArray(loginFailures.ip, [attempt.ip, ACCOUNT_WIDE])));
}

/** The step was not a failure (the right password, a second factor still to come): give the count back. */
export async function attemptNeutral(deps: Pick<AppDeps, 'db' | 'config'>, attempt: Pick<Attempt, 'subject' | 'ip'>): Promise<void> {
  const t = deps.config.auth.lockoutThreshold;
  await deps.db
    .update(loginFailures)
    .set({
      failures: sql`greatest(${loginFailures.failures} - 1, 0)`,
      lockedUntil: sql`CASE WHEN ${loginFailures.failures} - 1 >= ${t} THEN ${loginFailures.lockedUntil} END`,
    })
    .where(and(eq(loginFailures.subject, attempt.subject), inArray(loginFailures.ip, [attempt.ip, ACCOUNT_WIDE])));
}

/**
 * Rows that no longer count (no failure for FORGET_AFTER, no lock still running): an attacker trying
 * made-up emails must not grow the table without end. Returns how many were removed.
 */
export async function forgetStaleFailures(db: Tx): Promise<number> {
  const rows = await db
    .delete(loginFailures)
    .where(and(sql`${loginFailures.lastFailedAt} < now() - ${FORGET_AFTER}`, sql`(${loginFailures.lockedUntil} IS NULL OR ${loginFailures.lockedUntil} <= now())`))
    .returning({ ip: loginFailures.ip });
  return rows.length;
}

/** Admin unlock and admin reset: every count and lock of the user. Returns how many pairs were locked. */
export async function clearFailures(db: Tx, userId: string): Promise<number> {
  const rows = await db.delete(loginFailures).where(eq(loginFailures.subject, userId)).returning({ ip: loginFailures.ip, lockedUntil: loginFailures.lockedUntil });
  const now = Date.now();
  return rows.filter((r) => r.ip !== ACCOUNT_WIDE && r.lockedUntil && r.lockedUntil.getTime() > now).length;
}

/**
 * A signed-in password check (changePassword, disableTwoFactor): throttled like the login form and
 * counted for the caller's address, so a stolen session cannot guess the password any faster.
 * Returns the attempt when the password is right; the caller settles it once every check passed.
 */
export async function checkSignedInPassword(
  deps: Pick<AppDeps, 'db' | 'config' | 'redis' | 'log'>,
  meta: { ip: string },
  user: { id: string; email: string },
  verify: () => Promise<boolean>,
): Promise<Attempt | null> {
  const throttle = await countLoginAttempt(deps, meta.ip, user.email);
  if (throttle.limited) throw new AppError('TOO_MANY_REQUESTS', 'Too many attempts; wait a minute and try again');
  const attempt = await beginAttempt(deps, user.id, meta.ip);
  if (!attempt) throw new AppError('TOO_MANY_REQUESTS', LOCKED_MESSAGE);
  return (await verify()) ? attempt : null;
}
