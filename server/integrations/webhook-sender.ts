import { sql } from 'drizzle-orm';
import pMap from 'p-map';
import { OutboundRefused, type OutboundPolicy, postGuarded } from '../common/outbound.js';
import type { Tx } from '../db/client.js';
import { SIGNATURE_HEADER, signatureHeader } from '../notifications/webhook-signing.js';
import { webhookSecret } from './webhooks.js';

/*
 * The webhook outbox sender (the worker's loop; tests call it directly). Like the page sender:
 * Postgres only (SKIP LOCKED, a Redis outage changes nothing), a row a killed worker left 'sending'
 * is taken again after the lease (at least once: receivers deduplicate by the delivery's event id),
 * exponential backoff from 10 s to an hour, dead after about a day of tries, then Redeliver.
 */
export const WEBHOOK_INTERVAL_MS = 1_000;
const LEASE_SECONDS = 60;
const BATCH = 16;
/** 10 s, 20 s, 40 s … capped at an hour: attempt 32 is about 24 h after the first. */
export const MAX_ATTEMPTS = 32;
export const backoffSeconds = (attempts: number) => Math.min(3_600, 10 * 2 ** Math.max(0, attempts - 1));

type Claimed = { id: string; webhook_id: string; url: string; attempts: number; payload: unknown };

export async function sendDueWebhooks(deps: { db: Tx; config: { secrets: { tokenSecret: string }; outbound: OutboundPolicy } }): Promise<number> {
  const { rows } = await deps.db.execute<Claimed>(sql`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d
      WHERE (d.status = 'pending' AND d.next_attempt_at <= now())
         OR (d.status = 'sending' AND d.updated_at < now() - make_interval(secs => ${LEASE_SECONDS}))
      ORDER BY d.next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
    UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1, updated_at = now()
    FROM due, webhooks w
    WHERE d.id = due.id AND w.id = d.webhook_id AND w.hospital_id = d.hospital_id
    RETURNING d.id, d.webhook_id, w.url, d.attempts, d.payload`);
  await pMap(
    rows,
    async (row) => {
      const body = JSON.stringify(row.payload);
      let status = 0;
      let error: string | null = null;
      try {
        status = await postGuarded(
          deps.config.outbound,
          row.url,
          { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(webhookSecret(deps.config.secrets.tokenSecret, row.webhook_id), body), 'user-agent': 'Clarion-Webhook/1', 'x-clarion-delivery': row.id },
          body,
          10_000,
        );
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (err) {
        error = err instanceof OutboundRefused ? `Not allowed: ${err.message}` : (err instanceof Error ? err.message : String(err)).slice(0, 300);
      }
      if (!error) {
        await deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status = ${status}, last_error = NULL, updated_at = now() WHERE id = ${row.id}`);
        return;
      }
      const dead = row.attempts >= MAX_ATTEMPTS;
      await deps.db.execute(sql`
        UPDATE webhook_deliveries SET status = ${dead ? 'dead' : 'pending'}, last_status = ${status || null}, last_error = ${error},
          next_attempt_at = now() + make_interval(secs => ${backoffSeconds(row.attempts)}), updated_at = now()
        WHERE id = ${row.id}`);
    },
    { concurrency: BATCH },
  );
  return rows.length;
}
