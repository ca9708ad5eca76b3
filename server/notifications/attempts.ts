import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { DeliveryStatus } from './providers/telephony.js';

/** A failed or unanswered step hands over at once: the page's next queued step becomes due now. */
export const fallThrough = (db: Tx, pageId: string, step: number) =>
  db.execute(sql`
    UPDATE page_attempts SET due_at = now(), updated_at = now()
    WHERE page_id = ${pageId} AND status = 'queued' AND due_at > now()
      AND step = (SELECT min(step) FROM page_attempts WHERE page_id = ${pageId} AND step > ${step} AND status = 'queued')`);

/**
 * A provider's status callback moves a sent attempt on. Only forward: an attempt already answered,
 * failed or cancelled keeps its state (callbacks arrive late and out of order). A refused message,
 * a busy line, no answer, or a call that ended without a keypress fails the step, and the next
 * channel is tried at once instead of waiting out this step's delay.
 */
export async function recordProviderStatus(db: Tx, providerId: string, status: DeliveryStatus, detail: string): Promise<'delivered' | 'failed' | null> {
  if (status === 'delivered' || status === 'answered') {
    const r = await db.execute(sql`
      UPDATE page_attempts SET status = 'delivered', delivered_at = coalesce(delivered_at, now()), updated_at = now()
      WHERE provider_id = ${providerId} AND status = 'sent'`);
    return r.rowCount ? 'delivered' : null;
  }
  if (status === 'failed' || status === 'busy' || status === 'no_answer' || status === 'completed') {
    const error = status === 'completed' ? 'The call ended without a keypress' : `The provider reported ${detail}`;
    const { rows } = await db.execute<{ page_id: string; step: number }>(sql`
      UPDATE page_attempts SET status = 'failed', error = ${error}, updated_at = now()
      WHERE provider_id = ${providerId} AND status IN ('sent', 'delivered') AND answered_at IS NULL
      RETURNING page_id, step`);
    const row = rows[0];
    if (!row) return null;
    await fallThrough(db, row.page_id, row.step);
    return 'failed';
  }
  return null;
}

/** A device's own receipt (the push service worker showed the notification): sent → delivered, once. */
export async function markDelivered(db: Tx, attemptId: string): Promise<boolean> {
  const r = await db.execute(sql`
    UPDATE page_attempts SET status = 'delivered', delivered_at = coalesce(delivered_at, now()), updated_at = now()
    WHERE id = ${attemptId} AND status = 'sent'`);
  return Boolean(r.rowCount);
}
