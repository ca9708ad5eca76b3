import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { hashPassword } from '../auth/passwords.js';
import { clearFailures } from '../auth/lockout.js';
import { passwordPolicyProblem } from '../auth/schemas.js';
import { checkSecondFactor, toUserOutput } from '../auth/service.js';
import { createSession, mustSetupTwoFactor, revokeSessions } from '../auth/sessions.js';
import { countLoginAttempt } from '../auth/throttle.js';
import { toIso } from '../common/schemas.js';
import { departments, hospitals, setupTokens, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import { readSettings } from '../hospitals/settings.js';
import { publishControl } from '../realtime/control.js';
import type { ClientMeta as Meta } from '../request.js';
import type { Caller } from '../users/shared.js';
import { deliverLink, issueLink, revokeOpenLinks } from './links.js';
import { accountAuditActions as A, type CompleteSetupInput, type SetupInfo, type SetupLink, type SetupPurpose } from './schemas.js';
import { checkSetupToken, hashSetupToken } from './tokens.js';

/** One answer for every unusable link (forged, malformed, expired, spent, revoked, inactive user). */
const INVALID_LINK = 'This setup link is not valid or has expired; ask your administrator for a new one';

type RefusalReason = 'malformed' | 'bad_signature' | 'expired' | 'unknown' | 'used' | 'revoked' | 'inactive' | 'throttled' | 'race';

const anonymous = (meta: Meta, user?: { id: string; hospitalId: string }): AuditContext => ({
  userId: user?.id ?? null,
  hospitalId: user?.hospitalId ?? null,
  ip: meta.ip,
  userAgent: meta.userAgent,
  sessionId: null,
});

async function loadLink(deps: Pick<AppDeps, 'db'>, token: string) {
  const [row] = await deps.db
    .select({
      linkId: setupTokens.id,
      purpose: setupTokens.purpose,
      expiresAt: setupTokens.expiresAt,
      usedAt: setupTokens.usedAt,
      revokedAt: setupTokens.revokedAt,
      expired: sql<boolean>`${setupTokens.expiresAt} <= now()`,
      id: users.id,
      hospitalId: users.hospitalId,
      departmentId: users.departmentId,
      departmentName: departments.name,
      email: users.email,
      name: users.name,
      role: users.role,
      isActive: users.isActive,
      mustChangePassword: users.mustChangePassword,
      twoFactorEnabled: users.twoFactorEnabled,
      twoFactorSecret: users.twoFactorSecret,
      hospitalName: hospitals.name,
      settings: hospitals.settings,
    })
    .from(setupTokens)
    .innerJoin(users, eq(users.id, setupTokens.userId))
    .innerJoin(hospitals, eq(hospitals.id, users.hospitalId))
    .leftJoin(departments, eq(departments.id, users.departmentId))
    .where(eq(setupTokens.tokenHash, hashSetupToken(token)))
    .limit(1);
  return row;
}
type LoadedLink = NonNullable<Awaited<ReturnType<typeof loadLink>>>;

/** Audits the refusal (outside any transaction, so it survives) and throws the one UNAUTHORIZED answer. */
async function refuse(deps: Pick<AppDeps, 'db'>, meta: Meta, via: string, reason: RefusalReason, link?: LoadedLink): Promise<never> {
  await logAuditEvent(deps.db, anonymous(meta, link), {
    action: A.linkRefused,
    resource: 'user',
    resourceId: link?.id ?? null,
    outcome: 'failure',
    metadata: { reason, via, ...(link ? { linkId: link.linkId, purpose: link.purpose } : {}) },
  });
  throw new AppError('UNAUTHORIZED', INVALID_LINK);
}

/** Signature and expiry first (no database work for a forged link), then the stored state. */
async function usableLink(deps: Pick<AppDeps, 'config' | 'db'>, meta: Meta, token: string, via: string): Promise<LoadedLink> {
  const check = checkSetupToken(deps.config.secrets.tokenSecret, token);
  if (!check.ok) return refuse(deps, meta, via, check.reason);
  const link = await loadLink(deps, token);
  if (!link) return refuse(deps, meta, via, 'unknown');
  if (link.usedAt) return refuse(deps, meta, via, 'used', link);
  if (link.revokedAt) return refuse(deps, meta, via, 'revoked', link);
  if (link.expired) return refuse(deps, meta, via, 'expired', link);
  if (!link.isActive) return refuse(deps, meta, via, 'inactive', link);
  return link;
}

/** Counted like sign-in attempts (per IP and per link), since completing a link signs the user in. */
async function throttle(deps: AppDeps, meta: Meta, token: string, via: string): Promise<void> {
  const t = await countLoginAttempt(deps, meta.ip, `setup-link:${hashSetupToken(token)}`);
  if (!t.limited) return;
  if (t.firstOver) await logAuditEvent(deps.db, anonymous(meta), { action: A.linkRefused, outcome: 'failure', metadata: { reason: 'throttled', via, scope: t.scope } });
  throw new AppError('TOO_MANY_REQUESTS', 'Too many attempts; wait a minute and try again');
}

/** What the /setup page shows before the user chooses a password. Does not spend the link. */
export async function getSetupInfo(deps: AppDeps, meta: Meta, token: string): Promise<SetupInfo> {
  await throttle(deps, meta, token, 'getSetupInfo');
  const link = await usableLink(deps, meta, token, 'getSetupInfo');
  return {
    email: link.email,
    name: link.name,
    role: link.role,
    hospitalName: link.hospitalName,
    purpose: link.purpose as SetupPurpose,
    expiresAt: toIso(link.expiresAt),
    twoFactorCodeRequired: link.twoFactorEnabled,
    twoFactorSetupRequired: readSettings(link.settings).requireTwoFactorFor.includes(link.role) && !link.twoFactorEnabled,
  };
}

/**
 * Spends the link: sets the password (the policy of auth.changePassword), clears mustChangePassword and
 * any lockout, marks the email verified (the user proved they receive it), ends every other session and
 * signs the user in. A user who already has 2FA must give a code; a user whose role requires 2FA and
 * has none gets a session with mustSetupTwoFactor, so auth.setupTwoFactor / enableTwoFactor follow.
 * Nothing is changed until every check has passed; then the link is spent with a guarded UPDATE, so
 * two concurrent completions cannot both succeed.
 */
export async function completeSetup(deps: AppDeps, meta: Meta, input: CompleteSetupInput) {
  await throttle(deps, meta, input.token, 'completeSetup');
  const link = await usableLink(deps, meta, input.token, 'completeSetup');
  const audit = anonymous(meta, link);
  const failed = async (field: 'password' | 'totp', message: string, reason: string): Promise<never> => {
    await logAuditEvent(deps.db, audit, { action: A.setupCompleted, resource: 'user', resourceId: link.id, outcome: 'failure', metadata: { reason, linkId: link.linkId } });
    throw badRequest(message, { [field]: [message] });
  };
  const problem = passwordPolicyProblem(input.password, link.email);
  if (problem) return failed('password', problem, 'policy');
  let factor: 'totp' | 'backup_code' | null = null;
  if (link.twoFactorEnabled) {
    if (!input.totp) return failed('totp', 'Enter the code from your authenticator app, or a backup code', 'totp_missing');
    factor = await checkSecondFactor(deps, link, input.totp);
    if (!factor) return failed('totp', 'The code is not valid', 'bad_totp');
  }

  const passwordHash = await hashPassword(input.password);
  const settings = readSettings(link.settings);
  const verified = factor !== null;
  const done = await deps.db.transaction(async (tx) => {
    const spent = await tx
      .update(setupTokens)
      .set({ usedAt: sql`now()` })
      .where(and(eq(setupTokens.id, link.linkId), isNull(setupTokens.usedAt), isNull(setupTokens.revokedAt), gt(setupTokens.expiresAt, sql`now()`)))
      .returning({ id: setupTokens.id });
    if (!spent.length) return null;
    await tx
      .update(users)
      .set({
        passwordHash,
        mustChangePassword: false,
        emailVerified: true,
        passwordChangedAt: sql`now()`,
        failedLoginAttempts: 0,
        isLocked: false,
        lockoutUntil: null,
        lastLoginAt: sql`now()`,
        lastLoginIp: meta.ip,
        updatedAt: sql`now()`,
      })
      .where(and(eq(users.id, link.id), eq(users.isActive, true)));
    const revoked = await revokeSessions(tx, { userId: link.id }, 'setup_link');
    await revokeOpenLinks(tx, link.id);
    await clearFailures(tx, link.id);
    const session = await createSession(tx, { userId: link.id, hospitalId: link.hospitalId, hours: settings.sessionHours, ip: meta.ip, userAgent: meta.userAgent, twoFactorVerified: verified });
    const mustSetup = mustSetupTwoFactor(settings.requireTwoFactorFor, link, verified);
    await logAuditEvent(tx, { ...audit, sessionId: session.sessionId }, {
      action: A.setupCompleted,
      resource: 'user',
      resourceId: link.id,
      metadata: { linkId: link.linkId, purpose: link.purpose, emailVerified: true, revokedSessions: revoked.length, mustSetupTwoFactor: mustSetup, secondFactor: factor },
    });
    return { session, revoked, mustSetup };
  });
  if (!done) return refuse(deps, meta, 'completeSetup', 'race', link);
  if (done.revoked.length) publishControl(deps, { type: 'sessions.revoked', sessionIds: done.revoked });
  const user = toUserOutput({ ...link, mustChangePassword: false, mustSetupTwoFactor: done.mustSetup });
  return { status: 'ok' as const, token: done.session.token, expiresAt: toIso(done.session.expiresAt), user };
}

/**
 * users' admin action: a fresh link for a user of the caller's hospital (the older one stops working).
 * A user who has already set a password keeps it until the link is used.
 */
export async function issueSetupLinkForUser(deps: AppDeps, caller: Caller, userId: string): Promise<SetupLink> {
  const hospitalId = caller.actor.hospitalId;
  const [user] = await deps.db
    .select({ id: users.id, email: users.email, name: users.name, isActive: users.isActive, emailVerified: users.emailVerified, hospitalName: hospitals.name })
    .from(users)
    .innerJoin(hospitals, eq(hospitals.id, users.hospitalId))
    .where(and(eq(users.hospitalId, hospitalId), eq(users.id, userId)));
  if (!user) throw notFound('User');
  if (!user.isActive) {
    await logAuditEvent(deps.db, caller.audit, { action: A.linkIssued, resource: 'user', resourceId: userId, outcome: 'failure', metadata: { reason: 'inactive' } });
    throw conflict('This user is deactivated: reactivate them first');
  }
  const purpose: SetupPurpose = user.emailVerified ? 'password_reset' : 'account_setup';
  const link = await deps.db.transaction((tx) => issueLink(tx, deps.config, caller.audit, { userId, hospitalId }, purpose));
  return deliverLink(deps, caller.audit, link, user);
}
