import { z } from 'zod';
import { zId, zIso } from '../common/schemas.js';
import { alertEventTypes } from '../db/enums.js';

/** What a webhook can ask for: every alert event, by its wire name ('alert.created', 'alert.acknowledged', …). */
export const webhookEventTypes = alertEventTypes.map((t) => `alert.${t}` as const);
export const webhookEventSchema = z.enum(webhookEventTypes as [string, ...string[]]);

export const createWebhookInput = z.object({
  url: z.url({ protocol: /^https?$/, error: 'Enter an http(s):// address' }).max(2048),
  events: z.array(webhookEventSchema).min(1, 'Choose at least one event').max(webhookEventTypes.length),
});

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  isActive: z.boolean(),
  createdAt: zIso,
});
/** The signing secret is in this answer only (derived from the server's secret, never stored). */
export const createWebhookOutput = webhookSchema.extend({ secret: z.string() });
export const listWebhooksOutput = z.object({ webhooks: z.array(webhookSchema) });
export const webhookIdInput = z.object({ webhookId: zId });

export const deliverySchema = z.object({
  id: z.string(),
  eventType: z.string(),
  eventId: z.string().nullable(),
  status: z.enum(['pending', 'sending', 'delivered', 'dead']),
  attempts: z.number().int(),
  nextAttemptAt: zIso.nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: zIso.nullable(),
  createdAt: zIso,
});
export const webhookDeliveriesInput = z.object({ webhookId: zId, limit: z.number().int().min(1).max(200).default(50) });
export const webhookDeliveriesOutput = z.object({ deliveries: z.array(deliverySchema) });
export const deliveryIdInput = z.object({ deliveryId: zId });
