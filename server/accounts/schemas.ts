import { z } from 'zod';
import { authUserSchema, newPasswordSchema, zTotp } from '../auth/schemas.js';
import { zId, zIso } from '../common/schemas.js';
import { roles, setupTokenPurposes } from '../db/enums.js';

/** Zod schemas of account setup (one-time links), shared by the router and the web's /setup page. */

export type SetupPurpose = (typeof setupTokenPurposes)[number];

/**
 * A link as an admin receives it: `url` is null when it was emailed to the user (only the user should
 * hold it), and the link itself when there is no SMTP server or the email could not be sent.
 */
export const setupLinkSchema = z.object({ url: z.string().nullable(), expiresAt: zIso, emailed: z.boolean() });
export type SetupLink = z.infer<typeof setupLinkSchema>;

// Only bounded here: every malformed, forged, expired or spent token gets the same UNAUTHORIZED answer
// from the service (a format error must not answer differently from a forged one).
const zSetupToken = z.string().min(1, 'Required').max(512);

export const getSetupInfoInput = z.object({ token: zSetupToken });
export const getSetupInfoOutput = z.object({
  email: z.string(),
  name: z.string(),
  role: z.enum(roles),
  hospitalName: z.string(),
  purpose: z.enum(setupTokenPurposes),
  expiresAt: zIso,
  /** The user already has 2FA: completeSetup needs a code (`totp`) from their app or a backup code. */
  twoFactorCodeRequired: z.boolean(),
  /** The hospital requires 2FA for this role and the user has none: setup continues with auth.setupTwoFactor. */
  twoFactorSetupRequired: z.boolean(),
});
export type SetupInfo = z.infer<typeof getSetupInfoOutput>;

export const completeSetupInput = z.object({ token: zSetupToken, password: newPasswordSchema, totp: zTotp.optional() });
export type CompleteSetupInput = z.infer<typeof completeSetupInput>;

/** The same answer as a successful auth.login: the user is signed in. */
export const completeSetupOutput = z.object({ status: z.literal('ok'), token: z.string(), expiresAt: zIso, user: authUserSchema });

export const issueSetupLinkInput = z.object({ id: zId });
export const issueSetupLinkOutput = setupLinkSchema;

/** Audit actions of account setup. Metadata keys avoid "token"/"password" (the audit scrubber blanks those). */
export const accountAuditActions = {
  linkIssued: 'account.setup_link_issued',
  linkEmailed: 'account.setup_link_emailed',
  linkRefused: 'account.setup_link_refused',
  setupCompleted: 'account.setup_completed',
  adminReset: 'account.admin_reset',
} as const;

/** The user agent of audit rows written by the admin CLI (actor null). */
export const ADMIN_CLI_AGENT = 'clarion-admin-cli';
