import type { Page, PageAttempt } from '../../../server/alerts/schemas.js';

/** A channel as it reads inside a sentence ("SMS sent", "answered by voice"). */
const noun: Record<PageAttempt['channel'], string> = { push: 'push', sms: 'SMS', voice: 'voice', email: 'email', webhook: 'webhook' };
/** What a cancelled step was: "call not needed" reads better than "voice not needed". */
const thing: Record<PageAttempt['channel'], string> = { push: 'push', sms: 'SMS', voice: 'call', email: 'email', webhook: 'webhook' };

/**
 * Time since the page, as a stopwatch reads: "00:14", "01:02", "1:05:09" past an hour. Relative to
 * the page rather than the clock, so "SMS after 30 s" in someone's rules is visibly what happened.
 */
export function sincePage(pagedAt: string, at: string): string {
  const s = Math.max(0, Math.round((Date.parse(at) - Date.parse(pagedAt)) / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

/** How an attempt went, for styling (the words carry the meaning; the class only adds emphasis). */
export type AttemptTone = 'ok' | 'failed' | 'pending' | 'quiet';

/**
 * One attempt in a person's words: "push delivered 00:14", "SMS failed 00:30 — Rate limit: …",
 * "voice due 01:00", "answered by voice 01:02", "call not needed".
 */
export function attemptWords(a: PageAttempt, pagedAt: string): { text: string; tone: AttemptTone } {
  const n = noun[a.channel];
  const t = (at: string | null) => sincePage(pagedAt, at ?? a.dueAt);
  switch (a.status) {
    case 'queued':
      // A provider blip leaves the row queued with the reason: say it is a retry, and why.
      return a.error ? { text: `${n} retry due ${t(a.dueAt)} — ${a.error}`, tone: 'pending' } : { text: `${n} due ${t(a.dueAt)}`, tone: 'pending' };
    case 'sending':
      return { text: `${n} sending ${t(a.dueAt)}`, tone: 'pending' };
    case 'sent':
      return { text: `${n} sent ${t(a.sentAt)}`, tone: 'ok' };
    case 'delivered':
      return { text: `${n} delivered ${t(a.deliveredAt ?? a.sentAt)}`, tone: 'ok' };
    case 'read':
      return { text: `${n} read${a.deliveredAt ? ` (delivered ${t(a.deliveredAt)})` : ''}`, tone: 'ok' };
    case 'responded':
      return { text: `${a.answer === 'declined' ? 'declined' : 'answered'} by ${n} ${t(a.answeredAt)}`, tone: 'ok' };
    case 'failed':
      return { text: `${n} failed ${t(a.sentAt)}${a.error ? ` — ${a.error}` : ''}`, tone: 'failed' };
    case 'cancelled':
      return { text: `${thing[a.channel]} not needed`, tone: 'quiet' };
    default:
      return { text: `${n} ${String(a.status)}`, tone: 'quiet' };
  }
}

/** Something is still on its way (queued, sending, sent): worth checking again while the detail is open. */
export const attemptsInFlight = (pages: Page[] | undefined) => Boolean(pages?.some((p) => p.attempts?.some((a) => a.status === 'queued' || a.status === 'sending' || a.status === 'sent')));
