import { exportProcedures } from '../exports/procedures.js';
import { alarmReportCsv } from './alarm-report-csv.js';
import { alarmReportCsvOutput, alarmReportInput, alarmReportOutput } from './alarm-report-schemas.js';
import { getAlarmReport } from './alarm-report.js';
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

  // The alarm committee's report (issue 19); the CSV is the same report as text, saved by the browser.
  getAlarmReport: permissionProcedure('audit.view')
    .input(alarmReportInput)
    .output(alarmReportOutput)
    .query(({ ctx, input }) => getAlarmReport(ctx.deps.db, { ...auditContextOf(ctx), hospitalId: ctx.auth.user.hospitalId }, input, ctx.deps.config.defaultTimezone)),

  getAlarmReportCsv: permissionProcedure('audit.view')
    .input(alarmReportInput)
    .output(alarmReportCsvOutput)
    .query(async ({ ctx, input }) =>
      alarmReportCsv(await getAlarmReport(ctx.deps.db, { ...auditContextOf(ctx), hospitalId: ctx.auth.user.hospitalId }, input, ctx.deps.config.defaultTimezone, 'csv')),
    ),

  // exportLogs, getExport, listExports: the export job runs in the worker (server/exports, worker/processors/export.ts).
  ...exportProcedures,
});
