import { and, eq, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { hospitals, userBackupCodes, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, conflict } from '../errors.js';
import { readSettings } from '../hospitals/settings.js';
import type { ClientMeta as Meta } from '../request.js';
import { verifyPassword } from './passwords.js';
import { authAuditActions as A } from './schemas.js';
import { attemptSucceeded, checkSignedInPassword } from './lockout.js';
import { checkSecondFactor } from './service.js';
import { type AuthSession, markSessionTwoFactorVerified } from './sessions.js';
import { decryptSecret, encryptSecret, hashBackupCode, newBackupCodes, newTotpSecret, provisioning, verifyTotp } from './totp.js';

const ctxOf = (meta: Meta, auth: AuthSession): AuditContext => ({
  userId: auth.user.id,
  hospitalId: auth.user.hospitalId,
  ip: meta.ip,
  userAgent: meta.userAgent,
  sessionId: auth.session.id,
});

async function loadTwoFactor(deps: AppDeps, userId: string) {
  const [row] = await deps.db
    .select({ enabled: users.twoFactorEnabled, secret: users.twoFactorSecret, passwordHash: users.passwordHash, settings: hospitals.settings })
    .from(users)
    .innerJoin(hospitals, eq(hospitals.id, users.hospitalId))
    .where(eq(users.id, userId));
  if (!row) throw new AppError('UNAUTHORIZED', 'Sign in to continue');
  return row;
}

/**
 * Starts (or restarts) 2FA setup: a new secret, stored encrypted but not enabled until a code from the
 * app confirms it, and ten fresh backup codes, returned once and stored only as hashes.
 */
export async function setupTwoFactor(deps: AppDeps, meta: Meta, auth: AuthSession) {
  const current = await loadTwoFactor(deps, auth.user.id);
  if (current.enabled) throw conflict('Two-factor authentication is already enabled; disable it first to set it up again');
  const secret = newTotpSecret();
  const backupCodes = newBackupCodes();
  const { otpauthUri, qrCodeDataUrl } = await provisioning(auth.user.email, secret);
  await deps.db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ twoFactorSecret: encryptSecret(deps.config.secrets.totpKey, auth.user.id, secret), updatedAt: sql`now()` })
      .where(and(eq(users.id, auth.user.id), eq(users.twoFactorEnabled, false)));
    await tx.delete(userBackupCodes).where(eq(userBackupCodes.userId, auth.user.id));
    await tx.insert(userBackupCodes).values(backupCodes.map((code) => ({ userId: auth.user.id, codeHash: hashBackupCode(code) })));
    await logAuditEvent(tx, ctxOf(meta, auth), { action: A.twoFactorSetup, resource: 'user', resourceId: auth.user.id, metadata: { codesIssued: backupCodes.length } });
  });
  return { otpauthUri, qrCodeDataUrl, backupCodes };
}

/** Confirms setup with a code from the app; this session then counts as having passed 2FA. */
export async function enableTwoFactor(deps: AppDeps, meta: Meta, auth: AuthSession, totp: string): Promise<void> {
  const current = await loadTwoFactor(deps, auth.user.id);
  if (current.enabled) throw conflict('Two-factor authentication is already enabled');
  if (!current.secret) throw new AppError('PRECONDITION_FAILED', 'Start with setupTwoFactor');
  const secret = decryptSecret(deps.config.secrets.totpKey, auth.user.id, current.secret);
  if (!(await verifyTotp(deps, auth.user.id, secret, totp))) {
    await logAuditEvent(deps.db, ctxOf(meta, auth), { action: A.twoFactorEnable, resource: 'user', resourceId: auth.user.id, outcome: 'failure', metadata: { reason: 'bad_totp' } });
    throw badRequest('The code is not valid', { totp: ['The code is not valid; check the time on your phone and try the next code'] });
  }
  await deps.db.transaction(async (tx) => {
    const updated = await tx
      .update(users)
      .set({ twoFactorEnabled: true, updatedAt: sql`now()` })
      .where(and(eq(users.id, auth.user.id), eq(users.twoFactorEnabled, false)))
      .returning({ id: users.id });
    if (!updated.length) throw conflict('Two-factor authentication is already enabled');
    await markSessionTwoFactorVerified(tx, auth.session.id);
    await logAuditEvent(tx, ctxOf(meta, auth), { action: A.twoFactorEnable, resource: 'user', resourceId: auth.user.id });
  });
}

/** Needs the password and a code (TOTP or backup); refused where the hospital requires 2FA for the role. */
export async function disableTwoFactor(deps: AppDeps, meta: Meta, auth: AuthSession, input: { password: string; totp: string }): Promise<void> {
  const current = await loadTwoFactor(deps, auth.user.id);
  const ctx = ctxOf(meta, auth);
  const failed = async (field: 'password' | 'totp', message: string, reason: string): Promise<never> => {
    await logAuditEvent(deps.db, ctx, { action: A.twoFactorDisable, resource: 'user', resourceId: auth.user.id, outcome: 'failure', metadata: { reason } });
    throw badRequest(message, { [field]: [message] });
  };
  if (!current.enabled) throw conflict('Two-factor authentication is not enabled');
  if (readSettings(current.settings).requireTwoFactorFor.includes(auth.user.role)) {
    await logAuditEvent(deps.db, ctx, { action: A.twoFactorDisable, resource: 'user', resourceId: auth.user.id, outcome: 'failure', metadata: { reason: 'required_for_role' } });
    throw new AppError('FORBIDDEN', 'Your hospital requires two-factor authentication for your role');
  }
  // Counted for the caller's address like a failed login (a stolen session cannot guess faster).
  const attempt = await checkSignedInPassword(deps, meta, auth.user, async () => !!current.passwordHash && (await verifyPassword(input.password, current.passwordHash)));
  if (!attempt) return failed('password', 'The password is not correct', 'bad_password');
  const factor = await checkSecondFactor(deps, { id: auth.user.id, twoFactorSecret: current.secret }, input.totp);
  if (!factor) return failed('totp', 'The code is not valid', 'bad_totp');
  await attemptSucceeded(deps.db, attempt);
  await deps.db.transaction(async (tx) => {
    await tx.update(users).set({ twoFactorEnabled: false, twoFactorSecret: null, updatedAt: sql`now()` }).where(eq(users.id, auth.user.id));
    await tx.delete(userBackupCodes).where(eq(userBackupCodes.userId, auth.user.id));
    if (factor === 'backup_code') {
      await logAuditEvent(tx, ctx, { action: A.backupCodeUsed, resource: 'user', resourceId: auth.user.id, metadata: { via: 'disable_2fa' } });
    }
    await logAuditEvent(tx, ctx, { action: A.twoFactorDisable, resource: 'user', resourceId: auth.user.id, metadata: { method: factor } });
  });
}
