import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, router } from '../trpc/trpc.js';
import { createKey, listKeys, revokeKey } from './keys.js';
import { apiKeySchema, createKeyInput, createKeyOutput, keyIdInput, listKeysOutput } from './schemas.js';

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
});
