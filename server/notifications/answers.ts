import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { acknowledgeAlert, declineAlert } from '../alerts/service.js';
import type { Alert } from '../alerts/schemas.js';
import type { AlertDeps } from '../alerts/change.js';
import type { Tx } from '../db/client.js';
import { AppError } from '../errors.js';
import { type Actor, can } from '../permissions.js';
import type { Role } from '../permissions.js';
import type { AnswerAction, AnswerChannel, Channel } from './schemas.js';

/** A response link works for one shift: long enough for a doctor woken at 3 am, never for next week. */
export const RESPONSE_LINK_TTL_SECONDS = 12 * 3600;

/**
 * A response link is `<attemptId>.<HMAC-SHA256 of the id with the server's token secret>`: signed,
 * so it cannot be guessed or made up from an id, and the same for every try of one attempt, so a
 * retried send never leaves an earlier message with a dead link. Single use and expiry are the
 * attempt row's (answered_at, token_expires_at).
 */
const linkSignature = (secret: string, attemptId: string) => createHmac('sha256', secret).update(`response-link:${attemptId}`).digest('base64url');
export const responseToken = (secret: string, attemptId: string) => `${attemptId}.${linkSignature(secret, attemptId)}`;
export const responseLink = (publicUrl: string, secret: string, attemptId: string) => `${publicUrl}/r/${responseToken(secret, attemptId)}`;

/** The attempt id a token signs, or null for anything we did not sign. */
export function verifiedAttemptId(secret: string, token: string): string | null {
  const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const [, id, sig] = m as unknown as [string, string, string];
  const a = Buffer.from(sig);
  const b = Buffer.from(linkSignature(secret, id));
  return a.length === b.length && timingSafeEqual(a, b) ? id : null;
}

/** The attempt an answer came through, with what the person needs to see before answering. */
export type AnsweringAttempt = {
  attemptId: string;
  hospitalId: string;
  userId: string;
  alertId: string;
  pageId: string;
  channel: Channel;
  answeredAt: string | null;
  expired: boolean;
  alertStatus: Alert['status'];
  priority: Alert['priority'];
  title: string;
  department: string;
  roomNumber: string | null;
};

const attemptColumns = sql`
  pa.id AS "attemptId", pa.hospital_id AS "hospitalId", pa.user_id AS "userId", pa.alert_id AS "alertId", pa.page_id AS "pageId", pa.channel,
  pa.answered_at AS "answeredAt", (pa.token_expires_at IS NOT NULL AND pa.token_expires_at <= now()) AS expired,
  al.status AS "alertStatus", al.priority, al.title, d.code AS department, al.room_number AS "roomNumber"`;

/** The attempt behind a response link; expired and used links are returned too, so the page can say which. */
export async function attemptByToken(db: Tx, secret: string, token: string): Promise<AnsweringAttempt | null> {
  const attemptId = verifiedAttemptId(secret, token);
  if (!attemptId) return null;
  const { rows } = await db.execute<AnsweringAttempt>(sql`
    SELECT ${attemptColumns} FROM page_attempts pa JOIN alerts al ON al.id = pa.alert_id JOIN departments d ON d.id = al.department_id
    WHERE pa.id = ${attemptId} AND pa.token_expires_at IS NOT NULL`);
  return rows[0] ?? null;
}

/** The attempt a provider callback names (a call's or a message's provider id). */
export async function attemptByProviderId(db: Tx, providerId: string): Promise<AnsweringAttempt | null> {
  const { rows } = await db.execute<AnsweringAttempt>(sql`
    SELECT ${attemptColumns} FROM page_attempts pa JOIN alerts al ON al.id = pa.alert_id JOIN departments d ON d.id = al.department_id
    WHERE pa.provider_id = ${providerId}`);
  return rows[0] ?? null;
}

/** How long after an SMS page a bare "1" or "2" from that phone still answers it. */
export const SMS_REPLY_WINDOW_MINUTES = 60;

/** An SMS reply carries no id: it answers the newest open SMS page sent to that number in the window. */
export async function attemptBySmsReply(db: Tx, fromNumber: string): Promise<AnsweringAttempt | null> {
  const { rows } = await db.execute<AnsweringAttempt>(sql`
    SELECT ${attemptColumns} FROM page_attempts pa
      JOIN contacts c ON c.id = pa.contact_id AND c.hospital_id = pa.hospital_id AND c.user_id = pa.user_id
      JOIN alert_pages ap ON ap.id = pa.page_id
      JOIN alerts al ON al.id = pa.alert_id JOIN departments d ON d.id = al.department_id
    WHERE c.channel = 'sms' AND c.address = ${fromNumber} AND c.verified_at IS NOT NULL
      AND pa.channel = 'sms' AND pa.sent_at > now() - make_interval(mins => ${SMS_REPLY_WINDOW_MINUTES})
      AND pa.answered_at IS NULL AND ap.response IS NULL
    ORDER BY pa.sent_at DESC LIMIT 1`);
  return rows[0] ?? null;
}

export type AnswerOutcome =
  | { ok: true; alert: Alert }
  | { ok: false; reason: 'used' | 'expired' | 'closed' | 'inactive' | 'not_allowed' | 'conflict' | 'unknown'; message: string };

const refusal = (reason: Exclude<AnswerOutcome, { ok: true }>['reason'], message: string): AnswerOutcome => ({ ok: false, reason, message });

/**
 * An answer from a phone acts as the paged person: the same state machine, permission matrix and
 * audit as the board, with the channel it came from in the audit row's user agent. The attempt is
 * marked answered first (guarded, so a replay or a second tap loses the race) and released again
 * if the act fails for a reason that is not the person's.
 */
export async function answerAttempt(
  deps: AlertDeps,
  attempt: AnsweringAttempt,
  answer: { action: AnswerAction; reason?: string; via: AnswerChannel; ip: string | null },
): Promise<AnswerOutcome> {
  if (attempt.answeredAt) return refusal('used', 'This page has already been answered from this message.');
  if (attempt.expired) return refusal('expired', 'This link has expired. Open Clarion to see the alert.');
  const { rows } = await deps.db.execute<{ id: string; role: Role; department_id: string | null; is_active: boolean }>(sql`
    SELECT id, role, department_id, is_active FROM users WHERE id = ${attempt.userId} AND hospital_id = ${attempt.hospitalId}`);
  const user = rows[0];
  if (!user?.is_active) return refusal('inactive', 'Your Clarion account is not active, so this answer was not recorded.');
  if (!can(user.role, 'alert.respond')) return refusal('not_allowed', 'Your role cannot acknowledge or decline alerts.');
  const claimed = await deps.db.execute(sql`
    UPDATE page_attempts SET answered_at = now(), answer = ${answer.action === 'acknowledge' ? 'acknowledged' : 'declined'}, status = 'responded', updated_at = now()
    WHERE id = ${attempt.attemptId} AND answered_at IS NULL AND (token_expires_at IS NULL OR token_expires_at > now())`);
  if (!claimed.rowCount) return refusal('used', 'This page has already been answered from this message.');
  const actor: Actor = { id: user.id, role: user.role, hospitalId: attempt.hospitalId, departmentId: user.department_id };
  const audit = { userId: user.id, hospitalId: attempt.hospitalId, ip: answer.ip, userAgent: `clarion-${answer.via}-answer`, sessionId: null };
  try {
    const alert =
      answer.action === 'acknowledge'
        ? await acknowledgeAlert(deps, actor, audit, attempt.alertId)
        : await declineAlert(deps, actor, audit, attempt.alertId, answer.reason?.trim() || `Declined by ${answer.via}`);
    return { ok: true, alert };
  } catch (err) {
    if (err instanceof AppError && err.code === 'CONFLICT') return refusal('conflict', `${err.message}: nothing was changed.`);
    if (err instanceof AppError && err.code === 'NOT_FOUND') return refusal('closed', 'You can no longer see this alert: nothing was changed.');
    await deps.db.execute(sql`UPDATE page_attempts SET answered_at = NULL, answer = NULL, status = 'sent', updated_at = now() WHERE id = ${attempt.attemptId}`);
    throw err;
  }
}
