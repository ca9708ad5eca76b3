import type { Alert, AlertEvent } from '../../../server/alerts/schemas.js';

export type { Alert, AlertEvent };

/** What the alert record alone does not say, learnt from its events. */
export interface AlertNote {
  /** Back to active after an acknowledgement that was not followed by a resolve in time. */
  reopened?: boolean;
  /** The latest "cannot take it", with its reason. */
  declined?: { reason: string; at: string };
}

/** Shelved is open: it is still someone's, just "not now" (its own row on the board, no sound). */
export const OPEN_STATUSES: ReadonlySet<string> = new Set(['active', 'acknowledged', 'shelved']);
const PRIORITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/**
 * The alerts a screen shows, keyed by id. Every event carries the whole alert after the change, so an
 * event is applied by looking only at that alert: open → upsert, closed → remove (or keep, on the
 * console's "recent" list, which is capped). The version guard ignores a replayed older snapshot.
 * Memory stays bounded: only open alerts (a ward has few) or at most `cap` recent ones are kept.
 */
export class AlertStore {
  private byId = new Map<string, Alert>();
  private notes = new Map<string, AlertNote>();
  constructor(
    private readonly keepClosed = false,
    private readonly cap = 50,
  ) {}

  reset(alerts: Alert[]): void {
    this.byId.clear();
    this.notes.clear();
    for (const a of alerts) this.apply(a);
  }

  /** Applies a live (or historical) event: the alert, and the notes its type carries. */
  applyEvent(event: AlertEvent): boolean {
    const changed = this.apply(event.alert);
    if (!this.byId.has(event.alert.id)) return changed;
    const note = { ...this.notes.get(event.alert.id) };
    if (event.type === 'reopened') note.reopened = true;
    else if (event.type === 'acknowledged' || event.type === 'resolved') delete note.reopened;
    else if (event.type === 'declined') note.declined = { reason: String(event.detail?.reason ?? ''), at: event.occurredAt };
    else return changed;
    this.notes.set(event.alert.id, note);
    return true;
  }

  note(id: string): AlertNote | undefined {
    return this.notes.get(id);
  }

  /** Returns true when the store changed. */
  apply(alert: Alert): boolean {
    const existing = this.byId.get(alert.id);
    if (existing && existing.version > alert.version) return false;
    if (!OPEN_STATUSES.has(alert.status) && !this.keepClosed) {
      this.notes.delete(alert.id);
      return this.byId.delete(alert.id);
    }
    this.byId.set(alert.id, alert);
    if (this.byId.size > this.cap) this.trim();
    return true;
  }

  private trim(): void {
    // Drop the oldest closed alerts first, then the oldest of any.
    const sorted = [...this.byId.values()].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    const closed = sorted.filter((a) => !OPEN_STATUSES.has(a.status));
    for (const a of [...closed, ...sorted]) {
      if (this.byId.size <= this.cap) break;
      this.byId.delete(a.id);
      this.notes.delete(a.id);
    }
  }

  get(id: string): Alert | undefined {
    return this.byId.get(id);
  }

  /** Priority first (critical on top), then unacknowledged before acknowledged, then oldest first. */
  sortedByPriority(): Alert[] {
    return [...this.byId.values()].sort(
      (a, b) =>
        (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9) ||
        Number(a.status !== 'active') - Number(b.status !== 'active') ||
        Date.parse(a.createdAt) - Date.parse(b.createdAt),
    );
  }

  /** Newest first (the console's recent list). */
  sortedByNewest(): Alert[] {
    return [...this.byId.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  }
}
