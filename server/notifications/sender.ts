import { sql } from 'drizzle-orm';
import { sendMail } from '../accounts/mailer.js';
import type { Config } from '../config.js';
import type { Tx } from '../db/client.js';
import { placeCall, sendSms, TelephonyError } from './providers/telephony.js';
import type { Channel } from './schemas.js';

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
const BATCH = 50;
/** Seconds before try n+1 after a retryable failure (a provider blip, a timeout). */
const backoffSeconds = (tries: number) => (tries <= 1 ? 5 : 15);

type Claimed = {
  id: string;
  page_id: string;
  step: number;
  tries: number;
  channel: Channel;
  address: string | null;
  priority: string;
  alert_status: string;
  response: string | null;
  room_number: string | null;
  department: string;
};

/** What a lock screen or an SMS says: no patient detail ("CRITICAL · ICU · room 312"). */
export function minimalText(a: Pick<Claimed, 'priority' | 'department' | 'room_number'>): string {
  return [a.priority.toUpperCase(), a.department, a.room_number ? `room ${a.room_number}` : null].filter(Boolean).join(' · ');
}

class SendFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function deliver(config: Pick<Config, 'mail' | 'telephony' | 'publicUrl'>, row: Claimed): Promise<string | null> {
  const text = `Clarion page: ${minimalText(row)}. Open Clarion to acknowledge or decline.`;
  if (!row.address) throw new SendFailure('The contact was removed', false);
  switch (row.channel) {
    case 'email':
      if (!config.mail.smtpUrl) throw new SendFailure('Email is not set up on this server', false);
      await sendMail(config, { to: row.address, subject: `Clarion page: ${minimalText(row)}`, text, html: `<p>${text}</p>` });
      return null;
    case 'sms':
    case 'voice': {
      if (!config.telephony) throw new SendFailure('SMS and voice are not set up on this server', false);
      const statusCallbackUrl = `${config.publicUrl}/hooks/telephony/status`;
      const sent =
        row.channel === 'sms'
          ? await sendSms(config.telephony, { to: row.address, body: text, statusCallbackUrl })
          : await placeCall(config.telephony, { to: row.address, script: `This is Clarion. ${minimalText(row).replaceAll(' · ', ', ')}. Open Clarion to acknowledge or decline.`, gatherUrl: `${config.publicUrl}/hooks/telephony/gather`, statusCallbackUrl });
      return sent.providerId;
    }
    case 'webhook': {
      const res = await fetch(row.address, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pageId: row.page_id, priority: row.priority, department: row.department, room: row.room_number }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new SendFailure(`The webhook answered HTTP ${res.status}`, res.status >= 500 || res.status === 429);
      return null;
    }
    case 'push':
      throw new SendFailure('Web Push sending is not built yet', false);
  }
}

/** A failed step hands over at once: the page's next queued step becomes due now. */
const fallThrough = (db: Tx, pageId: string, step: number) =>
  db.execute(sql`
    UPDATE page_attempts SET due_at = now(), updated_at = now()
    WHERE page_id = ${pageId} AND status = 'queued' AND due_at > now()
      AND step = (SELECT min(step) FROM page_attempts WHERE page_id = ${pageId} AND step > ${step} AND status = 'queued')`);

/** One pass: claims the due rows, sends or cancels each. Returns how many rows it handled. */
export async function sendDueAttempts(deps: { db: Tx; config: Pick<Config, 'mail' | 'telephony' | 'publicUrl'> }): Promise<number> {
  const { rows } = await deps.db.execute<Claimed>(sql`
    WITH due AS (
      SELECT id FROM page_attempts
      WHERE (status = 'queued' AND due_at <= now())
         OR (status = 'sending' AND updated_at < now() - make_interval(secs => ${SENDING_LEASE_SECONDS}))
      ORDER BY due_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
    UPDATE page_attempts pa SET status = 'sending', tries = pa.tries + 1, updated_at = now()
    FROM due, alert_pages ap, alerts al, departments d
    WHERE pa.id = due.id AND ap.id = pa.page_id AND al.id = pa.alert_id AND d.id = al.department_id
    RETURNING pa.id, pa.page_id, pa.step, pa.tries, pa.channel, (SELECT c.address FROM contacts c WHERE c.id = pa.contact_id) AS address, al.priority, al.status AS alert_status,
              ap.response, al.room_number, d.code AS department`);
  for (const row of rows) {
    // Answered (by this person or anyone: the alert is no longer active) — the rest of the chain stops.
    if (row.response !== null || row.alert_status !== 'active') {
      await deps.db.execute(sql`UPDATE page_attempts SET status = 'cancelled', updated_at = now() WHERE id = ${row.id}`);
      continue;
    }
    try {
      const providerId = await deliver(deps.config, row);
      await deps.db.execute(sql`UPDATE page_attempts SET status = 'sent', provider_id = ${providerId}, sent_at = now(), error = NULL, updated_at = now() WHERE id = ${row.id}`);
    } catch (err) {
      const retryable = err instanceof SendFailure ? err.retryable : err instanceof TelephonyError ? err.retryable : true;
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      if (retryable && row.tries < MAX_TRIES) {
        await deps.db.execute(sql`UPDATE page_attempts SET status = 'queued', error = ${message}, due_at = now() + make_interval(secs => ${backoffSeconds(row.tries)}), updated_at = now() WHERE id = ${row.id}`);
      } else {
        await deps.db.execute(sql`UPDATE page_attempts SET status = 'failed', error = ${message}, updated_at = now() WHERE id = ${row.id}`);
        await fallThrough(deps.db, row.page_id, row.step);
      }
    }
  }
  return rows.length;
}
