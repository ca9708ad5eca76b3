import { z } from 'zod';
import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import { addContact, registerPush, removeContact, verifyContact } from './contacts.js';
import { unreachableUsers } from './coverage.js';
import { getRules, setRules } from './rules.js';
import {
  addContactInput,
  contactIdInput,
  contactSchema,
  pushConfigOutput,
  registerPushInput,
  rulesOutput,
  setRulesInput,
  testChannelInput,
  testChannelOutput,
  unreachableOutput,
  verifyContactInput,
} from './schemas.js';
import { sendTest } from './test-send.js';

/** Each person's own rules and contacts: nobody else's; admins see who cannot be reached (not their addresses). */
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

  /** "Send test": one test message to each of my verified contacts on the channel. */
  test: protectedProcedure
    .input(testChannelInput)
    .output(testChannelOutput)
    .mutation(({ ctx, input }) => sendTest(ctx.deps, auditContextOf(ctx), ctx.auth.user, input.channel)),

  /** The VAPID public key a browser subscribes with; null when Web Push is not set up on this server. */
  pushConfig: protectedProcedure.output(pushConfigOutput).query(({ ctx }) => ({ publicKey: ctx.deps.config.webPush?.publicKey ?? null })),

  /** Admins: everyone a page would reach on screens only for some priority (no verified contact for any step). */
  unreachable: permissionProcedure('user.manage')
    .output(unreachableOutput)
    .query(async ({ ctx }) => ({ users: await unreachableUsers(ctx.deps.db, ctx.auth.user.hospitalId) })),

  registerPush: protectedProcedure
    .input(registerPushInput)
    .output(contactSchema)
    .mutation(({ ctx, input }) => registerPush(ctx.deps, auditContextOf(ctx), ctx.auth.user, input.subscription)),
});
