import { and, eq, isNull, sql } from 'drizzle-orm';
import { revokeOpenLinks } from '../accounts/links.js';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { toIso } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { departments, hospitals, userBackupCodes, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest } from '../errors.js';
import { readSettings } from '../hospitals/settings.js';
import { publishControl } from '../realtime/control.js';
import type { ClientMeta as Meta } from '../request.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import { authAuditActions as A, type AuthUserOutput, type LoginFailureReason, type LoginInput, type LoginOutput, passwordPolicyProblem } from './schemas.js';
import { type AuthSession, type AuthUser, createSession, mustSetupTwoFactor, revokeSessions } from './sessions.js';
import { type Attempt, attemptNeutral, attemptSucceeded, beginAttempt, checkSignedInPassword, emailSubject, LOCKED_MESSAGE } from './lockout.js';
import { countLoginAttempt, rememberClient } from './throttle.js';
import { decryptSecret, hashBackupCode, isTotpFormat, verifyTotp } from './totp.js';

/** The one answer for every failed sign-in: unknown email, wrong password, locked or inactive look alike. */
const INVALID_CREDENTIALS = 'Invalid email or password';

export const toUserOutput = (u: AuthUser): AuthUserOutput => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  hospitalId: u.hospitalId,
  departmentId: u.departmentId,
  departmentName: u.departmentName,
  mustChangePassword: u.mustChangePassword,
  mustSetupTwoFactor: u.mustSetupTwoFactor,
  twoFactorEnabled: u.twoFactorEnabled,
});

const auditCtx = (meta: Meta, user: { id: string; hospitalId: string } | null, sessionId: string | null = null): AuditContext => ({
  userId: user?.id ?? null,
  hospitalId: user?.hospitalId ?? null,
  ip: meta.ip,
  userAgent: meta.userAgent,
  sessionId,
});

async function loadLoginUser(db: Tx, email: string) {
  const [row] = await db
    .select({
      id: users.id,
      hospitalId: users.hospitalId,
      departmentId: users.departmentId,
      departmentName: departments.name,
      email: users.email,
      name: users.name,
      role: users.role,
      passwordHash: users.passwordHash,
      mustChangePassword: users.mustChangePassword,
      isActive: users.isActive,
      // A lock with no end is indefinite (set by hand); an expired one no longer counts.
      lockedNow: sql<boolean>`(${users.isLocked} AND (${users.lockoutUntil} IS NULL OR ${users.lockoutUntil} > now()))`,
      twoFactorEnabled: users.twoFactorEnabled,
      twoFactorSecret: users.twoFactorSecret,
      settings: hospitals.settings,
    })
    .from(users)
    .innerJoin(hospitals, eq(hospitals.id, users.hospitalId))
    .leftJoin(departments, eq(departments.id, users.departmentId))
    .where(eq(users.email, email))
    .limit(1);
  return row;
}
type LoginUser = NonNullable<Awaited<ReturnType<typeof loadLoginUser>>>;

/**
 * Writes the refusal's audit row (outside any transaction, so it survives) and throws UNAUTHORIZED. The
 * attempt was counted before the password check (lockout.ts); when it locked its (account, address)
 * pair, the lockout is audited too.
 */
async function refuse(deps: AppDeps, meta: Meta, user: LoginUser | null, reason: LoginFailureReason, attempt: Attempt, extra: Record<string, unknown> = {}): Promise<never> {
  await logAuditEvent(deps.db, auditCtx(meta, user), {
    action: A.login,
    resource: 'user',
    resourceId: user?.id ?? null,
    outcome: 'failure',
    metadata: { reason, failedAttempts: attempt.pairFailures, ...extra },
  });
  if (user && attempt.locksOnFailure) {
    await logAuditEvent(deps.db, auditCtx(meta, user), {
      action: A.lockout,
      resource: 'user',
      resourceId: user.id,
      metadata: { ip: meta.ip, failedAttempts: attempt.pairFailures, lockoutMinutes: attempt.lockMinutes },
    });
    deps.log.warn({ userId: user.id }, 'sign-ins to an account from one address locked after repeated failures');
  }
  throw new AppError('UNAUTHORIZED', reason === 'bad_totp' ? 'Invalid two-factor code' : INVALID_CREDENTIALS);
}

/** The (account, address) pair is locked: refused before any password check, and not counted again. */
async function refuseLocked(deps: AppDeps, meta: Meta, user: LoginUser | null, email: string): Promise<never> {
  await logAuditEvent(deps.db, auditCtx(meta, user), {
    action: A.login,
    resource: 'user',
    resourceId: user?.id ?? null,
    outcome: 'failure',
    metadata: { reason: 'address_locked', ...(user ? {} : { email }) },
  });
  throw new AppError('TOO_MANY_REQUESTS', LOCKED_MESSAGE);
}

/** Spends a backup code: the guarded UPDATE lets each code succeed exactly once, even in parallel. */
export async function spendBackupCode(db: Tx, userId: string, code: string): Promise<boolean> {
  const spent = await db
    .update(userBackupCodes)
    .set({ usedAt: sql`now()` })
    .where(and(eq(userBackupCodes.userId, userId), eq(userBackupCodes.codeHash, hashBackupCode(code)), isNull(userBackupCodes.usedAt)))
    .returning({ id: userBackupCodes.id });
  return spent.length === 1;
}

/** A TOTP code or an unused backup code. */
export async function checkSecondFactor(
  deps: AppDeps,
  user: { id: string; twoFactorSecret: string | null },
  code: string,
): Promise<'totp' | 'backup_code' | null> {
  if (isTotpFormat(code)) {
    if (!user.twoFactorSecret) return null;
    const secret = decryptSecret(deps.config.secrets.totpKey, user.id, user.twoFactorSecret);
    return (await verifyTotp(deps, user.id, secret, code)) ? 'totp' : null;
  }
  return (await spendBackupCode(deps.db, user.id, code)) ? 'backup_code' : null;
}

export async function login(deps: AppDeps, meta: Meta, input: LoginInput): Promise<LoginOutput> {
  const throttle = await countLoginAttempt(deps, meta.ip, input.email);
  if (throttle.limited) {
    deps.log.warn({ scope: throttle.scope }, 'sign-in attempts throttled');
    // Audited once per window, so a flood cannot flood the audit chain too.
    if (throttle.firstOver) {
      await logAuditEvent(deps.db, auditCtx(meta, null), {
        action: A.login,
        outcome: 'failure',
        metadata: { reason: 'throttled', scope: throttle.scope, email: input.email },
      });
    }
    throw new AppError('TOO_MANY_REQUESTS', 'Too many sign-in attempts; wait a minute and try again');
  }

  const user = (await loadLoginUser(deps.db, input.email)) ?? null;
  // Unknown emails are counted and locked like accounts, so the answers do not reveal which exist.
  const attempt = await beginAttempt(deps, user?.id ?? emailSubject(input.email), meta.ip);
  if (!attempt) return refuseLocked(deps, meta, user, input.email);
  // Always run scrypt, against a dummy hash when there is no user, so timing does not reveal accounts.
  const passwordOk = (await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()))) && !!user?.passwordHash;
  if (!user) return refuse(deps, meta, null, 'unknown_email', attempt, { email: input.email });
  if (!user.isActive) return refuse(deps, meta, user, 'inactive', attempt);
  if (user.lockedNow) return refuse(deps, meta, user, 'locked', attempt);
  if (!passwordOk) return refuse(deps, meta, user, user.passwordHash ? 'bad_password' : 'password_not_set', attempt);

  let method: 'password' | 'totp' | 'backup_code' = 'password';
  if (user.twoFactorEnabled) {
    if (!input.totp) {
      await attemptNeutral(deps, attempt);
      return { status: 'two_factor_required' };
    }
    const factor = await checkSecondFactor(deps, user, input.totp);
    if (!factor) return refuse(deps, meta, user, 'bad_totp', attempt);
    method = factor;
  }

  const settings = readSettings(user.settings);
  const verified = method !== 'password';
  const opened = await deps.db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ failedLoginAttempts: 0, isLocked: false, lockoutUntil: null, lastLoginAt: sql`now()`, lastLoginIp: meta.ip, updatedAt: sql`now()` })
      .where(eq(users.id, user.id));
    await attemptSucceeded(tx, attempt);
    const session = await createSession(tx, {
      userId: user.id,
      hospitalId: user.hospitalId,
      hours: settings.sessionHours,
      ip: meta.ip,
      userAgent: meta.userAgent,
      twoFactorVerified: verified,
    });
    const ctx = auditCtx(meta, user, session.sessionId);
    const mustSetup = mustSetupTwoFactor(settings.requireTwoFactorFor, user, verified);
    await logAuditEvent(tx, ctx, { action: A.login, resource: 'user', resourceId: user.id, metadata: { method, mustSetupTwoFactor: mustSetup } });
    if (method === 'backup_code') {
      const [left] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(userBackupCodes)
        .where(and(eq(userBackupCodes.userId, user.id), isNull(userBackupCodes.usedAt)));
      await logAuditEvent(tx, ctx, { action: A.backupCodeUsed, resource: 'user', resourceId: user.id, metadata: { remaining: left?.n ?? 0, via: 'login' } });
    }
    return { session, mustSetup };
  });

  rememberClient(deps, meta.ip, input.email);
  const authUser: AuthUser = { ...user, mustSetupTwoFactor: opened.mustSetup };
  return { status: 'ok', token: opened.session.token, expiresAt: toIso(opened.session.expiresAt), user: toUserOutput(authUser) };
}

export async function logout(deps: AppDeps, meta: Meta, auth: AuthSession): Promise<void> {
  const revoked = await deps.db.transaction(async (tx) => {
    const ids = await revokeSessions(tx, { sessionId: auth.session.id }, 'logout');
    await logAuditEvent(tx, auditCtx(meta, auth.user, auth.session.id), { action: A.logout, resource: 'session', resourceId: auth.session.id });
    return ids;
  });
  if (revoked.length) publishControl(deps, { type: 'sessions.revoked', sessionIds: revoked });
}

/** Changes the caller's password and ends their other sessions (this one stays signed in). */
export async function changePassword(
  deps: AppDeps,
  meta: Meta,
  auth: AuthSession,
  input: { currentPassword: string; newPassword: string },
): Promise<{ revokedSessions: number }> {
  const ctx = auditCtx(meta, auth.user, auth.session.id);
  const failed = async (field: string, message: string, reason: string): Promise<never> => {
    await logAuditEvent(deps.db, ctx, { action: A.passwordChange, resource: 'user', resourceId: auth.user.id, outcome: 'failure', metadata: { reason } });
    throw badRequest(message, { [field]: [message] });
  };
  const attempt = await checkSignedInPassword(deps, meta, auth.user, async () => {
    const [row] = await deps.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, auth.user.id));
    return !!row?.passwordHash && (await verifyPassword(input.currentPassword, row.passwordHash));
  });
  if (!attempt) return failed('currentPassword', 'The current password is not correct', 'bad_current_password');
  await attemptSucceeded(deps.db, attempt);
  const problem = passwordPolicyProblem(input.newPassword, auth.user.email);
  if (problem) return failed('newPassword', problem, 'policy');
  if (input.newPassword === input.currentPassword) return failed('newPassword', 'Choose a password different from the current one', 'unchanged');

  const passwordHash = await hashPassword(input.newPassword);
  const revoked = await deps.db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash, mustChangePassword: false, passwordChangedAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(users.id, auth.user.id));
    const ids = await revokeSessions(tx, { userId: auth.user.id, exceptSessionId: auth.session.id }, 'password_changed');
    const revokedSetupLinks = await revokeOpenLinks(tx, auth.user.id);
    await logAuditEvent(tx, ctx, { action: A.passwordChange, resource: 'user', resourceId: auth.user.id, metadata: { revokedSessions: ids.length, revokedSetupLinks } });
    return ids;
  });
  if (revoked.length) publishControl(deps, { type: 'sessions.revoked', sessionIds: revoked });
  return { revokedSessions: revoked.length };
}
