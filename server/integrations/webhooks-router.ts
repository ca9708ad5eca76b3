import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure } from '../trpc/trpc.js';
import {
  createWebhookInput,
  createWebhookOutput,
  deliveryIdInput,
  deliverySchema,
  listWebhooksOutput,
  webhookDeliveriesInput,
  webhookDeliveriesOutput,
  webhookIdInput,
  webhookSchema,
} from './webhook-schemas.js';
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, redeliver } from './webhooks.js';

const admin = permissionProcedure('integration.manage');

/** Outbound webhooks (integrations.createWebhook …): spread into the integrations router. */
export const webhookProcedures = {
  createWebhook: admin
    .input(createWebhookInput)
    .output(createWebhookOutput)
    .mutation(({ ctx, input }) => createWebhook(ctx.deps.db, { tokenSecret: ctx.deps.config.secrets.tokenSecret, outbound: ctx.deps.config.outbound }, auditContextOf(ctx), ctx.auth.user, input)),

  listWebhooks: admin.output(listWebhooksOutput).query(async ({ ctx }) => ({ webhooks: await listWebhooks(ctx.deps.db, ctx.auth.user.hospitalId) })),

  deleteWebhook: admin
    .input(webhookIdInput)
    .output(webhookSchema)
    .mutation(({ ctx, input }) => deleteWebhook(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input.webhookId)),

  /** Newest first: each event's delivery, its tries, last answer and error; dead ones can be redelivered. */
  webhookDeliveries: admin
    .input(webhookDeliveriesInput)
    .output(webhookDeliveriesOutput)
    .query(async ({ ctx, input }) => ({ deliveries: await listDeliveries(ctx.deps.db, ctx.auth.user.hospitalId, input.webhookId, input.limit) })),

  redeliverWebhook: admin
    .input(deliveryIdInput)
    .output(deliverySchema)
    .mutation(({ ctx, input }) => redeliver(ctx.deps.db, auditContextOf(ctx), ctx.auth.user, input.deliveryId)),
};
