import type { ControlMessage } from '../realtime/control.js';
import type { AuthSession } from './sessions.js';

/** At most this stale: DESIGN's "within a second" holds even if a control message is lost or Redis is down. */
export const SESSION_CACHE_TTL_MS = 1_000;
const MAX_ENTRIES = 20_000;

interface Entry {
  auth: AuthSession;
  until: number;
}

/**
 * Sessions this instance resolved in the last second, by token hash, so a board's queries do not
 * each re-read the session join. It only ever shortens the time to notice a change that nobody
 * announced: every control message (`sessions.revoked`, `user.changed`) drops the entries it names
 * at once — this instance's own synchronously, in publishControl, before the action answers; other
 * instances' when the message arrives — and an entry lives at most SESSION_CACHE_TTL_MS. Callers
 * use it for queries only: mutations and subscription starts read the session afresh (and a
 * mutation drops its caller's entry, since it may have changed that very user).
 *
 * A read that was in flight when an invalidation happened is not stored, so a lookup that raced a
 * revocation cannot put the revoked session back for another second. Control messages (rare) void
 * every read in flight; a caller's own mutation (frequent) only reads of that session, so a burst of
 * writes does not keep everyone else's reads out of the cache.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  /** Session id → token hash (one token per session), so a mutation's forget is not a scan. */
  private readonly bySession = new Map<string, string>();
  /** Invalidations so far; a read's mark is this count when it started. */
  private seq = 0;
  /** The last control message's seq, and each forgotten session's. */
  private lastControl = 0;
  private readonly forgotten = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs = SESSION_CACHE_TTL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(tokenHash: string): AuthSession | undefined {
    const entry = this.entries.get(tokenHash);
    if (entry && entry.until > this.now() && entry.auth.session.expiresAt.getTime() > Date.now()) {
      this.hits++;
      return entry.auth;
    }
    if (entry) this.drop(tokenHash);
    this.misses++;
    return undefined;
  }

  /** Taken before a read; `store` with it keeps the result only if nothing was invalidated meanwhile. */
  mark(): number {
    return this.seq;
  }

  store(tokenHash: string, auth: AuthSession | null, mark: number): void {
    // A session held to a pending step (password change, 2FA setup) leaves it through its own calls:
    // not cached, so the next call sees it done. Unknown or ended tokens are never cached either.
    if (!auth || auth.user.mustChangePassword || auth.user.mustSetupTwoFactor) return;
    if (mark < this.lastControl || mark < (this.forgotten.get(auth.session.id) ?? 0)) return;
    if (this.entries.size >= MAX_ENTRIES) this.sweep();
    this.drop(tokenHash);
    this.entries.set(tokenHash, { auth, until: this.now() + this.ttlMs });
    this.bySession.set(auth.session.id, tokenHash);
  }

  /** Drops what a control message names (and anything in flight). */
  apply(msg: ControlMessage): void {
    this.lastControl = ++this.seq;
    // Every read in flight is void from here, so what was forgotten one session at a time is moot.
    this.forgotten.clear();
    if (msg.type === 'sessions.revoked') {
      for (const id of msg.sessionIds) this.dropSession(id);
      return;
    }
    for (const [hash, { auth }] of this.entries) if (auth.user.id === msg.userId) this.drop(hash);
  }

  /** After a caller's own mutation: it may have changed the caller (name, 2FA, password…). */
  forgetSession(sessionId: string): void {
    const seq = ++this.seq;
    if (this.forgotten.size >= MAX_ENTRIES) {
      this.lastControl = seq;
      this.forgotten.clear();
    } else {
      this.forgotten.delete(sessionId);
      this.forgotten.set(sessionId, seq);
    }
    this.dropSession(sessionId);
  }

  private dropSession(sessionId: string): void {
    const hash = this.bySession.get(sessionId);
    if (hash) this.drop(hash);
  }

  private drop(tokenHash: string): void {
    const entry = this.entries.get(tokenHash);
    if (!entry) return;
    this.entries.delete(tokenHash);
    if (this.bySession.get(entry.auth.session.id) === tokenHash) this.bySession.delete(entry.auth.session.id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries; if still full, the oldest (Map order is insertion order). */
  private sweep(): void {
    const now = this.now();
    for (const [hash, e] of this.entries) if (e.until <= now) this.drop(hash);
    for (const hash of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.drop(hash);
    }
  }
}
