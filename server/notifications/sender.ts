import { sql } from 'drizzle-orm';
import pMap from 'p-map';
import type { Config } from '../config.js';
import type { Tx } from '../db/client.js';
import type { AppDeps } from '../deps.js';
import { RESPONSE_LINK_TTL_SECONDS } from './answers.js';
import { fallThrough } from './attempts.js';
import { type DeliverConfig, deliver, type OutboundPage, SendFailure } from './deliver.js';
import { TelephonyError } from './providers/telephony.js';
import { PushError } from './providers/webpush.js';
import { takeTelephonySlot } from './rate-limits.js';

/*
 * The outbox sender (the worker runs it every second; tests call it directly). Due rows are claimed
 * in Postgres with SKIP LOCKED, so several workers share the work and a Redis outage changes nothing.
 * A row left 'sending' by a killed worker is claimed again after SENDING_LEASE_SECONDS: at least
 * once — the one duplicate a crash mid-send can cause is preferred to a page never sent.
 */
export const SENDING_LEASE_SECONDS = 60;
/** How often the worker looks for due attempts: a step's delay is kept to within about a second. */
export const SEND_INTERVAL_MS = 1_000;
export const MAX_TRIES = 3;
/** Rows claimed per pass = sends in flight at once: a crash leaves at most this many waiting out the lease. */
const BATCH = 32;
/** One call keeps claiming while passes come back full, for at most this long (then the loop's next tick). */
const PASS_BUDGET_MS = 5_000;
/** Seconds before try n+1 after a retryable failure (a provider blip, a timeout). */
const backoffSeconds = (tries: number) => (tries <= 1 ? 5 : 15);

type Claimed = OutboundPage & { hospitalId: string; userId: string; step: number; tries: number; alertStatus: string; response: string | null };

type SenderDeps = { db: Tx; redis: AppDeps['redis']; config: DeliverConfig & Pick<Config, 'redis' | 'telephonyLimits'> };

/**
 * Sends what is due: passes of up to BATCH rows, sent in parallel (a provider's ~100 ms answer must
 * not serialise a burst of pages), again at once while a pass came back full. Returns the rows handled.
 */
export async function sendDueAttempts(deps: SenderDeps): Promise<number> {
  const started = Date.now();
  let total = 0;
  for (;;) {
    const n = await sendPass(deps);
    total += n;
    if (n < BATCH || Date.now() - started > PASS_BUDGET_MS) return total;
  }
}

/** One pass: claims the due rows, sends or cancels each, all at once. */
async function sendPass(deps: SenderDeps): Promise<number> {
  const { rows } = await deps.db.execute<Claimed>(sql`
    WITH due AS (
      SELECT id FROM page_attempts
      WHERE (status = 'queued' AND due_at <= now())
         OR (status = 'sending' AND updated_at < now() - make_interval(secs => ${SENDING_LEASE_SECONDS}))
      ORDER BY due_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
    UPDATE page_attempts pa SET status = 'sending', tries = pa.tries + 1, updated_at = now(),
      token_expires_at = coalesce(pa.token_expires_at, now() + make_interval(secs => ${RESPONSE_LINK_TTL_SECONDS}))
    FROM due, alert_pages ap, alerts al, departments d, hospitals h
    WHERE pa.id = due.id AND ap.id = pa.page_id AND al.id = pa.alert_id AND d.id = al.department_id AND h.id = pa.hospital_id
    RETURNING pa.id AS "attemptId", pa.hospital_id AS "hospitalId", pa.user_id AS "userId", pa.page_id AS "pageId", pa.alert_id AS "alertId", pa.step, pa.tries, pa.channel, pa.contact_id AS "contactId",
              (SELECT c.address FROM contacts c WHERE c.id = pa.contact_id) AS address,
              (SELECT c.push_keys FROM contacts c WHERE c.id = pa.contact_id) AS "pushKeys", al.priority, al.status AS "alertStatus", al.title, ap.response, al.room_number AS "roomNumber",
              d.code AS department, coalesce(h.settings->>'notificationDetail', 'minimal') AS detail`);
  await pMap(rows, (row) => handle(deps, row), { concurrency: BATCH });
  return rows.length;
}

async function handle(deps: SenderDeps, row: Claimed): Promise<void> {
  // Answered (by this person or anyone: the alert is no longer active) — the rest of the chain stops.
  if (row.response !== null || row.alertStatus !== 'active') {
    await deps.db.execute(sql`UPDATE page_attempts SET status = 'cancelled', updated_at = now() WHERE id = ${row.attemptId}`);
    return;
  }
  try {
    const limited = row.channel === 'sms' || row.channel === 'voice' ? await takeTelephonySlot(deps, row.hospitalId, row.userId) : null;
    if (limited) throw new SendFailure(limited, false);
    const providerId = await deliver(deps.config, row);
    await deps.db.execute(sql`UPDATE page_attempts SET status = 'sent', provider_id = ${providerId}, sent_at = now(), error = NULL, updated_at = now() WHERE id = ${row.attemptId} AND status = 'sending'`);
  } catch (err) {
    const retryable = err instanceof SendFailure || err instanceof TelephonyError || err instanceof PushError ? err.retryable : true;
    // The browser unsubscribed or the subscription expired: that device is gone for every later page too.
    if (err instanceof PushError && err.gone && row.contactId) await deps.db.execute(sql`DELETE FROM contacts WHERE id = ${row.contactId} AND channel = 'push'`);
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    if (retryable && row.tries < MAX_TRIES) {
      await deps.db.execute(sql`UPDATE page_attempts SET status = 'queued', error = ${message}, due_at = now() + make_interval(secs => ${backoffSeconds(row.tries)}), updated_at = now() WHERE id = ${row.attemptId}`);
    } else {
      await deps.db.execute(sql`UPDATE page_attempts SET status = 'failed', error = ${message}, updated_at = now() WHERE id = ${row.attemptId}`);
      await fallThrough(deps.db, row.pageId, row.step);
    }
  }
}
