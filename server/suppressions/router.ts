import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import { createSuppressionInput, listSuppressionsInput, listSuppressionsOutput, suppressionIdInput, suppressionSchema } from './schemas.js';
import { createSuppression, endSuppression, listSuppressions } from './service.js';

export const suppressionsRouter = router({
  create: permissionProcedure('suppression.manage')
    .input(createSuppressionInput)
    .output(suppressionSchema)
    .mutation(({ ctx, input }) => createSuppression(ctx.deps.db, ctx.auth.user, auditContextOf(ctx), input)),

  /** Every board lists its department's windows apart (what is kept quiet, and why). */
  list: protectedProcedure
    .input(listSuppressionsInput)
    .output(listSuppressionsOutput)
    .query(async ({ ctx, input }) => ({ suppressions: await listSuppressions(ctx.deps.db, ctx.auth.user, input?.endedWithinHours ?? 24) })),

  end: permissionProcedure('suppression.manage')
    .input(suppressionIdInput)
    .output(suppressionSchema)
    .mutation(({ ctx, input }) => endSuppression(ctx.deps.db, ctx.auth.user, auditContextOf(ctx), input.id)),
});
