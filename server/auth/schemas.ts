import { z } from 'zod';
import { zEmail, zId, zIso } from '../common/schemas.js';
import { roles } from '../db/enums.js';

/** The password policy, shared with the web forms and with users.create / set-password flows. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
export const newPasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters`);

/** Rules that need more than the password itself. Returns the problem, or null when it is acceptable. */
export function passwordPolicyProblem(password: string, email: string): string | null {
  const parsed = newPasswordSchema.safeParse(password);
  if (!parsed.success) return parsed.error.issues[0]?.message ?? 'Password does not meet the policy';
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) return 'The password must not be your email address';
  return null;
}

// A password being checked (not set) is only bounded, so a long one cannot make scrypt a cost amplifier.
const zPassword = z.string().min(1, 'Required').max(1024);

/** A 6-digit TOTP code, or a backup code (letters and digits, dashes and spaces ignored). */
export const zTotp = z
  .string()
  .trim()
  .min(6, 'Enter the 6-digit code or a backup code')
  .max(32)
  .regex(/^[A-Za-z0-9 -]+$/, 'Enter the 6-digit code or a backup code');

export const loginInput = z.object({ email: zEmail, password: zPassword, totp: zTotp.optional() });
export type LoginInput = z.infer<typeof loginInput>;

export const authUserSchema = z.object({
  id: zId,
  email: z.string(),
  name: z.string(),
  role: z.enum(roles),
  hospitalId: zId,
  departmentId: zId.nullable(),
  departmentName: z.string().nullable(),
  mustChangePassword: z.boolean(),
  mustSetupTwoFactor: z.boolean(),
  twoFactorEnabled: z.boolean(),
});
export type AuthUserOutput = z.infer<typeof authUserSchema>;

export const loginOutput = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), token: z.string(), expiresAt: zIso, user: authUserSchema }),
  z.object({ status: z.literal('two_factor_required') }),
]);
export type LoginOutput = z.infer<typeof loginOutput>;

export const okOutput = z.object({ ok: z.literal(true) });

export const changePasswordInput = z.object({ currentPassword: zPassword, newPassword: newPasswordSchema });

export const setupTwoFactorOutput = z.object({
  otpauthUri: z.string(),
  qrCodeDataUrl: z.string(),
  /** Shown once: only their hashes are stored. */
  backupCodes: z.array(z.string()).length(10),
});

export const enableTwoFactorInput = z.object({ totp: z.string().trim().regex(/^\d{6}$/, 'Enter the 6-digit code from your app') });
export const disableTwoFactorInput = z.object({ password: zPassword, totp: zTotp });

/** Audit actions of the auth domain (the compliance report counts these). */
export const authAuditActions = {
  login: 'auth.login',
  lockout: 'auth.lockout',
  logout: 'auth.logout',
  passwordChange: 'auth.password_change',
  twoFactorSetup: 'auth.2fa_setup',
  twoFactorEnable: 'auth.2fa_enable',
  twoFactorDisable: 'auth.2fa_disable',
  backupCodeUsed: 'auth.backup_code_used',
} as const;

/** Why a login failed, as the audit row's metadata.reason says (never shown to the client). */
export type LoginFailureReason = 'unknown_email' | 'bad_password' | 'password_not_set' | 'locked' | 'address_locked' | 'inactive' | 'bad_totp' | 'throttled';
