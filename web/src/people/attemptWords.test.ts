import { describe, expect, it } from 'vitest';
import type { PageAttempt } from '../../../server/alerts/schemas.js';
import { attemptsInFlight, attemptWords, sincePage } from './attemptWords.js';

const paged = '2026-03-01T10:00:00.000Z';
const at = (s: number) => new Date(Date.parse(paged) + s * 1000).toISOString();
const attempt = (over: Partial<PageAttempt>): PageAttempt => ({
  channel: 'sms',
  step: 1,
  status: 'queued',
  dueAt: at(0),
  sentAt: null,
  deliveredAt: null,
  answeredAt: null,
  answer: null,
  error: null,
  ...over,
});
const words = (over: Partial<PageAttempt>) => attemptWords(attempt(over), paged).text;

describe('a page attempt in a person’s words (times since the page)', () => {
  it('reads like a stopwatch, hours only past an hour, never negative', () => {
    expect(sincePage(paged, at(14))).toBe('00:14');
    expect(sincePage(paged, at(62))).toBe('01:02');
    expect(sincePage(paged, at(3909))).toBe('1:05:09');
    expect(sincePage(paged, at(-3))).toBe('00:00');
  });

  it('says each state with its time', () => {
    expect(words({ channel: 'push', status: 'delivered', sentAt: at(1), deliveredAt: at(14) })).toBe('push delivered 00:14');
    expect(words({ status: 'sent', dueAt: at(30), sentAt: at(44) })).toBe('SMS sent 00:44');
    expect(words({ channel: 'voice', status: 'responded', answer: 'acknowledged', answeredAt: at(62) })).toBe('answered by voice 01:02');
    expect(words({ status: 'responded', answer: 'declined', answeredAt: at(50) })).toBe('declined by SMS 00:50');
    expect(words({ channel: 'voice', status: 'queued', dueAt: at(60) })).toBe('voice due 01:00');
    expect(words({ channel: 'voice', status: 'cancelled', dueAt: at(60) })).toBe('call not needed');
    expect(words({ channel: 'email', status: 'cancelled' })).toBe('email not needed');
  });

  it('a failure carries its reason; a retry says so', () => {
    const failed = attemptWords(attempt({ status: 'failed', dueAt: at(30), error: 'Rate limit: 30 messages an hour per person' }), paged);
    expect(failed).toEqual({ text: 'SMS failed 00:30 — Rate limit: 30 messages an hour per person', tone: 'failed' });
    expect(words({ status: 'queued', dueAt: at(35), error: 'Provider answered 503' })).toBe('SMS retry due 00:35 — Provider answered 503');
  });

  it('is in flight while anything is queued, sending or sent', () => {
    const page = (statuses: PageAttempt['status'][]) => ({ attempts: statuses.map((status) => attempt({ status })) }) as never;
    expect(attemptsInFlight([page(['delivered', 'sent'])])).toBe(true);
    expect(attemptsInFlight([page(['delivered', 'cancelled', 'failed'])])).toBe(false);
    expect(attemptsInFlight(undefined)).toBe(false);
  });
});
