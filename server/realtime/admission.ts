import { AppError } from '../errors.js';

export interface SubscriptionLimits {
  /** Live subscriptions on one WebSocket. */
  perSocket: number;
  /** Live subscriptions of one session on this instance, over all its sockets (and HTTP streams). */
  perSession: number;
}

/**
 * Counts this instance's live subscriptions per socket and per session, so one signed-in client cannot
 * hold an unbounded number open (each one holds a replay page and a live queue). Counted per instance:
 * what it protects is this process's memory.
 */
export class SubscriptionAdmission {
  private readonly bySocket = new WeakMap<object, number>();
  private readonly bySession = new Map<string, number>();

  constructor(private readonly limits: SubscriptionLimits) {}

  /** Takes a slot, or throws TOO_MANY_REQUESTS; the returned function gives it back (once, however often called). */
  admit(sessionId: string, socket?: object): () => void {
    const onSocket = socket ? (this.bySocket.get(socket) ?? 0) : 0;
    if (socket && onSocket >= this.limits.perSocket) {
      throw new AppError('TOO_MANY_REQUESTS', `Too many subscriptions on this connection (limit ${this.limits.perSocket}); end one before starting another`);
    }
    const onSession = this.bySession.get(sessionId) ?? 0;
    if (onSession >= this.limits.perSession) {
      throw new AppError('TOO_MANY_REQUESTS', `Too many subscriptions for this session (limit ${this.limits.perSession}); end one before starting another`);
    }
    if (socket) this.bySocket.set(socket, onSocket + 1);
    this.bySession.set(sessionId, onSession + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (socket) this.bySocket.set(socket, (this.bySocket.get(socket) ?? 1) - 1);
      const left = (this.bySession.get(sessionId) ?? 1) - 1;
      if (left > 0) this.bySession.set(sessionId, left);
      else this.bySession.delete(sessionId);
    };
  }
}
