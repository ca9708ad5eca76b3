import { createHmac } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { checkOutboundUrl, OutboundRefused, type OutboundPolicy } from '../common/outbound.js';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { webhookDeliveries, webhooks } from '../db/schema.js';
import { badRequest, notFound } from '../errors.js';
import type { Actor } from '../permissions.js';

/** A webhook's signing secret: derived from the server's token secret and its id, so never stored. */
export const webhookSecret = (tokenSecret: string, webhookId: string) => `whsec_${createHmac('sha256', tokenSecret).update(`webhook:${webhookId}`).digest('base64url')}`;

type Row = typeof webhooks.$inferSelect;
const toWebhook = (r: Row) => ({ id: r.id, url: r.url, events: r.events, isActive: r.isActive, createdAt: toIso(r.createdAt) });

export async function createWebhook(db: Tx, deps: { tokenSecret: string; outbound: OutboundPolicy }, audit: AuditContext, actor: Actor, input: { url: string; events: string[] }) {
  try {
    checkOutboundUrl(deps.outbound, new URL(input.url));
  } catch (err) {
    if (err instanceof OutboundRefused) throw badRequest('This address is not allowed', { url: [err.message] });
    throw err;
  }
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(webhooks).values({ hospitalId: actor.hospitalId, url: input.url, events: [...new Set(input.events)], createdBy: actor.id }).returning();
    const w = row as Row;
    await logAuditEvent(tx, audit, { action: 'webhook.created', resource: 'webhook', resourceId: w.id, metadata: { origin: new URL(w.url).origin, events: w.events } });
    return { ...toWebhook(w), secret: webhookSecret(deps.tokenSecret, w.id) };
  });
}

export async function listWebhooks(db: Tx, hospitalId: string) {
  const rows = await db.select().from(webhooks).where(eq(webhooks.hospitalId, hospitalId)).orderBy(webhooks.createdAt);
  return rows.map(toWebhook);
}

/** Deactivates (deliveries stay listed for the record); pending ones are dropped as dead. */
export async function deleteWebhook(db: Tx, audit: AuditContext, actor: Actor, webhookId: string) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhooks)
      .set({ isActive: false })
      .where(and(eq(webhooks.hospitalId, actor.hospitalId), eq(webhooks.id, webhookId)))
      .returning();
    if (!row) throw notFound('Webhook');
    await tx.execute(sql`UPDATE webhook_deliveries SET status = 'dead', last_error = 'The webhook was deleted', updated_at = now() WHERE webhook_id = ${webhookId} AND status IN ('pending', 'sending')`);
    await logAuditEvent(tx, audit, { action: 'webhook.deleted', resource: 'webhook', resourceId: row.id, metadata: {} });
    return toWebhook(row);
  });
}

type Delivery = typeof webhookDeliveries.$inferSelect;
const toDelivery = (d: Delivery) => ({
  id: d.id,
  eventType: d.eventType,
  eventId: d.eventId === null ? null : String(d.eventId),
  status: d.status as 'pending' | 'sending' | 'delivered' | 'dead',
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' ? toIso(d.nextAttemptAt) : null,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  deliveredAt: toIsoOrNull(d.deliveredAt),
  createdAt: toIso(d.createdAt),
});

export async function listDeliveries(db: Tx, hospitalId: string, webhookId: string, limit: number) {
  const [w] = await db.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.hospitalId, hospitalId), eq(webhooks.id, webhookId)));
  if (!w) throw notFound('Webhook');
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.hospitalId, hospitalId), eq(webhookDeliveries.webhookId, webhookId)))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
  return rows.map(toDelivery);
}

/** Redeliver: a dead (or delivered) delivery goes out again now, with a fresh day of retries. */
export async function redeliver(db: Tx, audit: AuditContext, actor: Actor, deliveryId: string) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending', attempts: 0, nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(webhookDeliveries.hospitalId, actor.hospitalId),
          eq(webhookDeliveries.id, deliveryId),
          sql`${webhookDeliveries.status} IN ('dead', 'delivered')`,
          sql`EXISTS (SELECT 1 FROM webhooks w WHERE w.id = ${webhookDeliveries.webhookId} AND w.is_active)`,
        ),
      )
      .returning();
    if (!row) throw notFound('Delivery');
    await logAuditEvent(tx, audit, { action: 'webhook.redelivered', resource: 'webhook', resourceId: row.webhookId, metadata: { deliveryId } });
    return toDelivery(row);
  });
}
