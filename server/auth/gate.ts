import type { AuthUser } from './sessions.js';

/**
 * What a signed-in user must do before anything but the auth procedures (change their password, set
 * up 2FA): one rule for every transport — tRPC procedures (server/trpc/trpc.ts) and plain HTTP
 * handlers such as the export download. It lives in the auth domain, below the transport, so the
 * HTTP handlers need not import server/trpc and the message is the same wherever a user meets it.
 * Returns the refusal message, or null when the user may go on.
 */
export function pendingAccountStep(user: Pick<AuthUser, 'mustChangePassword' | 'mustSetupTwoFactor'>): string | null {
  if (user.mustChangePassword) return 'Change your password before continuing';
  if (user.mustSetupTwoFactor) return 'Set up two-factor authentication before continuing';
  return null;
}
