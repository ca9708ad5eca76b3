import { z } from 'zod';
import { auditContextOf } from '../trpc/context.js';
import { protectedProcedure, router } from '../trpc/trpc.js';
import { addContact, registerPush, removeContact, verifyContact } from './contacts.js';
import { getRules, setRules } from './rules.js';
import { addContactInput, contactIdInput, contactSchema, registerPushInput, rulesOutput, setRulesInput, verifyContactInput } from './schemas.js';

/** Each person's own rules and contacts: nobody else's (admins' view comes with the reach page). */
export const notificationsRouter = router({
  getRules: protectedProcedure.output(rulesOutput).query(({ ctx }) => getRules(ctx.deps.db, ctx.auth.user)),

  setRules: protectedProcedure
    .input(setRulesInput)
    .output(rulesOutput)
    .mutation(({ ctx, input }) => setRules(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input.rules)),

  /** Stores the address unverified and sends it a 6-digit code (SMS, call, email or webhook POST). */
  addContact: protectedProcedure
    .input(addContactInput)
    .output(contactSchema)
    .mutation(({ ctx, input }) => addContact(ctx.deps, auditContextOf(ctx), ctx.auth.user, input)),

  verifyContact: protectedProcedure
    .input(verifyContactInput)
    .output(contactSchema)
    .mutation(({ ctx, input }) => verifyContact(ctx.deps, auditContextOf(ctx), ctx.auth.user, input.contactId, input.code)),

  removeContact: protectedProcedure
    .input(contactIdInput)
    .output(z.object({ id: z.string() }))
    .mutation(({ ctx, input }) => removeContact(ctx.deps, auditContextOf(ctx), ctx.auth.user, input.contactId)),

  registerPush: protectedProcedure
    .input(registerPushInput)
    .output(contactSchema)
    .mutation(({ ctx, input }) => registerPush(ctx.deps, auditContextOf(ctx), ctx.auth.user, input.subscription)),
});
