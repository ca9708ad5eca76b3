import { z } from 'zod';
import { zId } from '../common/schemas.js';
import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure } from '../trpc/trpc.js';
import { exportLogsInput, exportSchema } from './schemas.js';
import { getExport, listExports, requestExport } from './service.js';

/** audit.exportLogs, audit.getExport, audit.listExports (spread into the audit router). */
export const exportProcedures = {
  exportLogs: permissionProcedure('audit.export')
    .input(exportLogsInput)
    .output(z.object({ id: z.string() }))
    .mutation(({ ctx, input }) => requestExport(ctx.deps, ctx.auth.user, auditContextOf(ctx), input)),

  getExport: permissionProcedure('audit.export')
    .input(z.object({ id: zId }))
    .output(exportSchema)
    .query(({ ctx, input }) => getExport(ctx.deps.db, ctx.auth.user, input.id)),

  listExports: permissionProcedure('audit.export')
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }).optional())
    .output(z.array(exportSchema))
    .query(({ ctx, input }) => listExports(ctx.deps.db, ctx.auth.user, input?.limit ?? 20)),
};
