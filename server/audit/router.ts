import { exportProcedures } from '../exports/procedures.js';
import { verifyingKeys } from './anchor.js';
import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, router } from '../trpc/trpc.js';
import { complianceReportInput, complianceReportOutput, getLogsInput, getLogsOutput } from './schemas.js';
import { getComplianceReport, getLogs } from './service.js';

export const auditRouter = router({
  getLogs: permissionProcedure('audit.view')
    .input(getLogsInput)
    .output(getLogsOutput)
    .query(({ ctx, input }) => getLogs(ctx.deps.db, ctx.auth.user.hospitalId, input)),

  getComplianceReport: permissionProcedure('audit.view')
    .input(complianceReportInput)
    .output(complianceReportOutput)
    .query(({ ctx, input }) => getComplianceReport(ctx.deps.db, { ...auditContextOf(ctx), hospitalId: ctx.auth.user.hospitalId }, input, verifyingKeys(ctx.deps.config.secrets))),

  // exportLogs, getExport, listExports: the export job runs in the worker (server/exports, worker/processors/export.ts).
  ...exportProcedures,
});
