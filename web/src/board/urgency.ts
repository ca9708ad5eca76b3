import type { Alert } from '../lib/alertStore.js';

const PRIORITY_RANK: Record<Alert['priority'], number> = { critical: 0, high: 1, medium: 2, low: 3 };

/**
 * How long an alert may wait unacknowledged before the board calls it OVERDUE even when no escalation
 * policy has moved it (a hospital without escalation settings still has a patient waiting).
 */
export const LONG_WAIT_MS: Record<Alert['priority'], number> = { critical: 60_000, high: 3 * 60_000, medium: 10 * 60_000, low: 30 * 60_000 };

/** Why a waiting alert is overdue, in words for the tile; null when it is not. */
export function overdue(alert: Alert, now: number): string | null {
  if (alert.status !== 'active') return null;
  const next = alert.nextEscalationAt ? Date.parse(alert.nextEscalationAt) : null;
  if (next !== null && now >= next) return 'escalation due';
  if (alert.escalationLevel > 0) return `escalated to level ${alert.escalationLevel}`;
  if (now - Date.parse(alert.createdAt) >= LONG_WAIT_MS[alert.priority]) return 'waiting too long';
  return null;
}

/**
 * The order a charge nurse reads a wall in: everything nobody has taken yet comes before anything
 * someone is already on (an acknowledged critical has a nurse at the bedside; a waiting high has
 * nobody), so "waiting before acknowledged" holds within every priority band and across them.
 * Waiting alerts: by priority, then overdue ones first, then the higher escalation level (it has
 * already been missed by someone), then the one waiting longest (the closest to its next escalation).
 * A brand-new alert is not lost by this: it chimes, is announced, and carries a NEW mark. Acknowledged
 * alerts: by priority, then the oldest acknowledgement first (the likeliest to time out and return).
 */
export function boardOrder(alerts: Alert[], now: number): Alert[] {
  const key = (a: Alert) => ({
    waiting: a.status === 'active' ? 0 : 1,
    rank: PRIORITY_RANK[a.priority] ?? 9,
    late: overdue(a, now) ? 0 : 1,
    level: -a.escalationLevel,
    since: Date.parse(a.status === 'active' ? a.createdAt : (a.acknowledgedAt ?? a.createdAt)),
  });
  const keyed = alerts.map((a) => ({ a, k: key(a) }));
  keyed.sort((x, y) => x.k.waiting - y.k.waiting || x.k.rank - y.k.rank || x.k.late - y.k.late || x.k.level - y.k.level || x.k.since - y.k.since);
  return keyed.map((x) => x.a);
}

/** "in 1m 05s" / "12s ago": a signed, short duration for deadlines. */
export function until(iso: string, now: number): { late: boolean; text: string } {
  const ms = Date.parse(iso) - now;
  const s = Math.floor(Math.abs(ms) / 1000);
  const text = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return { late: ms < 0, text };
}

/** "+N more" summary: how many of the hidden alerts are waiting, per priority. */
export function summarise(hidden: Alert[]): string {
  const waiting = new Map<string, number>();
  let acknowledged = 0;
  for (const a of hidden) {
    if (a.status === 'active') waiting.set(a.priority, (waiting.get(a.priority) ?? 0) + 1);
    else acknowledged += 1;
  }
  const parts = (['critical', 'high', 'medium', 'low'] as const).filter((p) => waiting.get(p)).map((p) => `${waiting.get(p)} ${p.toUpperCase()} waiting`);
  if (acknowledged) parts.push(`${acknowledged} acknowledged`);
  return parts.join(' · ');
}
