import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { selectAlerts } from '../alerts/queries.js';
import { alertSchema, createAlertInput } from '../alerts/schemas.js';
import { createAlert } from '../alerts/service.js';
import { zId } from '../common/schemas.js';
import { alerts } from '../db/schema.js';
import { notFound } from '../errors.js';
import { keyAudit } from '../integrations/keys.js';
import { idempotent } from './idempotency.js';
import { acknowledgeByKey, resolveByKey } from './transitions.js';
import { keyProcedure, restRouter } from './trpc.js';

/**
 * The integrators' REST API (DESIGN.md "Integrations"): tRPC procedures whose OpenAPI routes and
 * document trpc-to-openapi derives from the same zod schemas the tRPC API uses. Not part of appRouter:
 * only a bearer API key reaches these, never a session.
 */
const idInput = z.object({ id: zId });
const createdAlert = alertSchema.extend({ deduplicated: z.boolean().describe('true when an open alert for the same emergency absorbed this raise') });
const tags = ['alerts'];

export const restApiRouter = restRouter({
  createAlert: keyProcedure('alerts:write')
    .meta({
      openapi: {
        method: 'POST',
        path: '/alerts',
        protect: true,
        tags,
        summary: 'Raise an alert',
        description: "Raises an alert in a department of the key's hospital. Send an Idempotency-Key header to make retries safe: the same key and body get the first answer.",
        successDescription: 'The alert (or the open alert that absorbed it, deduplicated: true)',
      },
    })
    .input(createAlertInput)
    .output(createdAlert)
    .mutation(({ ctx, input }) =>
      idempotent(ctx.deps.db, ctx.caller, ctx.req.headers.get('idempotency-key') ?? undefined, `POST /alerts ${JSON.stringify(input)}`, async () => {
        const a = await createAlert(ctx.deps, null, keyAudit(ctx.caller, ctx.ip), { ...input, hospitalId: ctx.caller.hospitalId, source: `api:${ctx.caller.name}` });
        return createdAlert.parse(a);
      }),
    ),
  getAlert: keyProcedure('alerts:read')
    .meta({ openapi: { method: 'GET', path: '/alerts/{id}', protect: true, tags, summary: "An alert of the key's hospital" } })
    .input(idInput)
    .output(alertSchema)
    .query(async ({ ctx, input }) => {
      const [alert] = await selectAlerts(ctx.deps.db, and(eq(alerts.hospitalId, ctx.caller.hospitalId), eq(alerts.id, input.id)));
      if (!alert) throw notFound('Alert');
      return alert;
    }),
  acknowledgeAlert: keyProcedure('alerts:write')
    .meta({ openapi: { method: 'POST', path: '/alerts/{id}/acknowledge', protect: true, tags, summary: 'Acknowledge an active alert (stops escalation; no user is recorded)' } })
    .input(idInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => acknowledgeByKey(ctx.deps, ctx.caller, keyAudit(ctx.caller, ctx.ip), input.id)),
  resolveAlert: keyProcedure('alerts:write')
    .meta({ openapi: { method: 'POST', path: '/alerts/{id}/resolve', protect: true, tags, summary: 'Resolve an open alert' } })
    .input(idInput)
    .output(alertSchema)
    .mutation(({ ctx, input }) => resolveByKey(ctx.deps, ctx.caller, keyAudit(ctx.caller, ctx.ip), input.id)),
});
export type RestApiRouter = typeof restApiRouter;
