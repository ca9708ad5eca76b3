import { client, errorCode } from './api.js';
import { session } from './session.js';

export type ReceiptKind = 'delivered' | 'seen';

/** One call at most every FLUSH_MS, whatever the ward's traffic: a busy board never floods the server. */
export const FLUSH_MS = 2_000;
const MAX_BATCH = 200; // the server's limit per call
const MAX_PENDING = 2_000; // if the server is unreachable for long, the oldest receipts are dropped
const SEEN_MEMORY = 5_000; // a board that runs for days must not grow without bound

/**
 * Delivery receipts, batched: "delivered" for each event that reached this screen, "seen" once per
 * alert when its tile was on a visible screen. Receipts are idempotent on the server (per alert and
 * session), so a batch that fails is simply queued again.
 */
class ReceiptBatcher {
  private pending = new Map<string, { alertId: string; kind: ReceiptKind }>();
  private seen = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  /** Calls made (for tests and the curious: window.__clarionReceipts). */
  calls = 0;

  delivered(alertId: string): void {
    this.add(alertId, 'delivered');
  }

  /** Once per alert per page: the first time its tile is seen on a visible screen. */
  seenOnce(alertId: string): void {
    if (this.seen.has(alertId)) return;
    this.seen.add(alertId);
    if (this.seen.size > SEEN_MEMORY) this.seen.delete(this.seen.values().next().value as string);
    this.add(alertId, 'seen');
  }

  /** A new session (sign-in, sign-out): nothing of the old one is sent under the new token. */
  clear(): void {
    this.pending.clear();
    this.seen.clear();
  }

  private add(alertId: string, kind: ReceiptKind): void {
    const key = `${alertId}|${kind}`;
    if (this.pending.has(key)) return;
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
    this.pending.set(key, { alertId, kind });
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.inFlight || !session.token()) {
      if (this.pending.size) this.schedule();
      return;
    }
    const batch = [...this.pending.entries()].slice(0, MAX_BATCH);
    for (const [key] of batch) this.pending.delete(key);
    this.inFlight = true;
    this.calls += 1;
    try {
      await client.alerts.reportReceipts.mutate({ receipts: batch.map(([, r]) => r) });
    } catch (err) {
      // Queued again (a later batch may carry them), except when the session is gone.
      if (errorCode(err) !== 'UNAUTHORIZED') for (const [key, r] of batch) if (!this.pending.has(key)) this.pending.set(key, r);
    } finally {
      this.inFlight = false;
      if (this.pending.size) this.schedule();
    }
  }
}

export const receipts = new ReceiptBatcher();
(window as unknown as { __clarionReceipts: ReceiptBatcher }).__clarionReceipts = receipts;

let lastToken = session.token();
session.subscribe(() => {
  if (session.token() === lastToken) return;
  lastToken = session.token();
  receipts.clear();
});
