import { z } from 'zod';
import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import {
  alertIdInput,
  alertSchema,
  createAlertInput,
  createAlertOutput,
  declineInput,
  updateAlertInput,
  receiptSummaryInput,
  receiptSummaryOutput,
  reportReceiptsInput,
  getActiveOutput,
  getByIdOutput,
  listAlertsInput,
  listOutput,
  myPagesOutput,
  onEventInput,
  raiseCodeInput,
  shelveInput,
} from './schemas.js';
import {
  acknowledgeAlert,
  alertScope,
  cancelAlert,
  createAlert,
  declineAlert,
  updateAlert,
  escalateAlert,
  getActiveAlerts,
  getAlertById,
  listAlerts,
  resolveAlert,
} from './service.js';
import { incidentRecord } from './incident-record.js';
import { incidentRecordInput, incidentRecordOutput } from './incident-schemas.js';
import { raiseCode, respondToCode } from './codes.js';
import { myPages } from './pages.js';
import { shelveAlert, unshelveAlert } from './shelving.js';
import { receiptSummary, reportReceipts } from './receipts.js';
import { alertEventStream } from './subscription.js';

export const alertsRouter = router({
  create: permissionProcedure('alert.create')
    .input(createAlertInput)
    .output(createAlertOutput)
    .mutation(({ ctx, input }) => createAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input)),

  getActive: protectedProcedure.output(getActiveOutput).query(({ ctx }) => getActiveAlerts(ctx.deps, ctx.auth.user)),

  /** My alerts: the open alerts paged to me (people issue). */
  myPages: protectedProcedure.output(myPagesOutput).query(({ ctx }) => myPages(ctx.deps.db, ctx.auth.user)),

  getById: protectedProcedure
    .input(alertIdInput)
    .output(getByIdOutput)
    .query(({ ctx, input }) => getAlertById(ctx.deps, ctx.auth.user, input.alertId)),

  list: protectedProcedure
    .input(listAlertsInput)
    .output(listOutput)
    .query(({ ctx, input }) => listAlerts(ctx.deps, ctx.auth.user, input)),

  acknowledge: permissionProcedure('alert.respond')
    .input(alertIdInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => acknowledgeAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId)),

  resolve: permissionProcedure('alert.respond')
    .input(alertIdInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => resolveAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId)),

  cancel: permissionProcedure('alert.cancelOwn')
    .input(alertIdInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => cancelAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId)),

  escalate: permissionProcedure('alert.escalate')
    .input(alertIdInput)
    .output(alertSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await escalateAlert(ctx.deps, alertScope(ctx.auth.user), auditContextOf(ctx), input.alertId, 'manual');
      return (result as NonNullable<typeof result>).alert;
    }),

  update: permissionProcedure('alert.update')
    .input(updateAlertInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => updateAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input)),

  decline: permissionProcedure('alert.respond')
    .input(declineInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => declineAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId, input.reason)),

  /** "Not now" for N minutes with a reason (ISA-18.2 shelving): no sound, no escalation, back to active when the time runs out. */
  shelve: permissionProcedure('alert.shelve')
    .input(shelveInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => shelveAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input)),

  unshelve: permissionProcedure('alert.shelve')
    .input(alertIdInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => unshelveAlert(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId)),

  /** Calls a hospital code (Code Blue, Rapid Response, Fire, Lockdown, Missing person): critical, hospital-wide, pages the code team. */
  raiseCode: permissionProcedure('alert.raiseCode')
    .input(raiseCodeInput)
    .output(createAlertOutput)
    .mutation(({ ctx, input }) => raiseCode(ctx.deps, ctx.auth.user, auditContextOf(ctx), input)),

  /** "Responding" to a code: I am on my way (once per person). */
  respond: permissionProcedure('alert.respond')
    .input(alertIdInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => respondToCode(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId)),

  /** Boards batch what reached them and what was seen; unknown or invisible ids are ignored. */
  reportReceipts: protectedProcedure
    .input(reportReceiptsInput)
    .output(z.object({ recorded: z.number().int() }))
    .mutation(({ ctx, input }) => reportReceipts(ctx.deps.db, ctx.auth, input.receipts)),

  receiptSummary: permissionProcedure('presence.view')
    .input(receiptSummaryInput)
    .output(receiptSummaryOutput)
    .query(({ ctx, input }) => receiptSummary(ctx.deps.db, ctx.auth, input.alertIds)),

  incidentRecord: permissionProcedure('alert.incident_record').input(incidentRecordInput).output(incidentRecordOutput).query(({ ctx, input }) => incidentRecord(ctx.deps, ctx.auth.user, auditContextOf(ctx), input.alertId)),

  onEvent: protectedProcedure.input(onEventInput).subscription(({ ctx, input, signal }) =>
    alertEventStream({ deps: ctx.deps, hub: ctx.hub, auth: ctx.auth, lastEventId: input?.lastEventId, signal, socket: ctx.socket }),
  ),
});
