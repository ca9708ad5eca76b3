import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, publicProcedure, router } from '../trpc/trpc.js';
import { completeSetupInput, completeSetupOutput, getSetupInfoInput, getSetupInfoOutput, issueSetupLinkInput, issueSetupLinkOutput } from './schemas.js';
import { completeSetup, getSetupInfo, issueSetupLinkForUser } from './service.js';

/**
 * Account setup by one-time link. getSetupInfo and completeSetup are public: the signed link is the
 * credential. Every unusable link answers UNAUTHORIZED with one message; a password that breaks the
 * policy or a wrong 2FA code answers BAD_REQUEST with field errors and leaves the link usable.
 */
export const accountsRouter = router({
  // A mutation, not a query: a GET would put the token in the URL of every proxy and access log.
  getSetupInfo: publicProcedure
    .input(getSetupInfoInput)
    .output(getSetupInfoOutput)
    .mutation(({ ctx, input }) => getSetupInfo(ctx.deps, ctx.meta, input.token)),

  completeSetup: publicProcedure
    .input(completeSetupInput)
    .output(completeSetupOutput)
    .mutation(({ ctx, input }) => completeSetup(ctx.deps, ctx.meta, input)),

  /** Admins: a new link for a user of their hospital (emailed when SMTP is configured, else returned to copy). */
  issueSetupLink: permissionProcedure('user.manage')
    .input(issueSetupLinkInput)
    .output(issueSetupLinkOutput)
    .mutation(({ ctx, input }) => issueSetupLinkForUser(ctx.deps, { actor: ctx.auth.user, audit: auditContextOf(ctx) }, input.id)),
});
