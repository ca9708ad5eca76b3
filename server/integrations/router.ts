import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, router } from '../trpc/trpc.js';
import { createHl7Source, deactivateHl7Source, listHl7Sources } from './hl7/sources.js';
import { createKey, listKeys, revokeKey } from './keys.js';
import { webhookProcedures } from './webhooks-router.js';
import {
  apiKeySchema,
  createHl7SourceInput,
  createKeyInput,
  createKeyOutput,
  hl7SourceIdInput,
  hl7SourceSchema,
  keyIdInput,
  listHl7SourcesOutput,
  listKeysOutput,
} from './schemas.js';

const admin = permissionProcedure('integration.manage');

/** Machine access for the hospital's own systems: admins only, every change audited. */
export const integrationsRouter = router({
  /** The key is in this answer only; afterwards a list shows its first characters. */
  createKey: admin
    .input(createKeyInput)
    .output(createKeyOutput)
    .mutation(({ ctx, input }) => createKey(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input)),

  listKeys: admin.output(listKeysOutput).query(async ({ ctx }) => ({ keys: await listKeys(ctx.deps.db, ctx.auth.user.hospitalId) })),

  revokeKey: admin
    .input(keyIdInput)
    .output(apiKeySchema)
    .mutation(({ ctx, input }) => revokeKey(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input.keyId)),

  ...webhookProcedures,

  /** An HL7 v2 sender (monitor gateway, nurse call): MSH-4 and point of care → department, each the caller's hospital's own. */
  createHl7Source: admin
    .input(createHl7SourceInput)
    .output(hl7SourceSchema)
    .mutation(({ ctx, input }) => createHl7Source(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input)),

  listHl7Sources: admin.output(listHl7SourcesOutput).query(async ({ ctx }) => ({ sources: await listHl7Sources(ctx.deps.db, ctx.auth.user.hospitalId) })),

  /** Its later messages are answered AE; its alerts stay. */
  deactivateHl7Source: admin
    .input(hl7SourceIdInput)
    .output(hl7SourceSchema)
    .mutation(({ ctx, input }) => deactivateHl7Source(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input.sourceId)),
});
