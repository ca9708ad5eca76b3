import type WebSocket from 'ws';
import type { AppDeps } from '../deps.js';
import type { ControlMessage } from './control.js';
import { liveIdentities, type SocketIdentity, sameIdentity } from './socket-sessions.js';

export { type SocketIdentity, sameIdentity } from './socket-sessions.js';

/** How a socket is closed, and why: clients (and wsLink's onClose) see the code and the reason. */
export interface CloseReason {
  code: number;
  reason: string;
}

export const SESSION_ENDED: CloseReason = { code: 4401, reason: 'Your session has ended; sign in again' };

export interface SocketLimits {
  /** A socket without a valid session is closed this long after it opened. */
  authTimeoutMs: number;
  /** Sockets without a valid session, on this instance and from one client address. */
  maxAnonymous: number;
  maxAnonymousPerAddress: number;
  /** Sockets open at once for one session, and for one user (all their sessions). */
  maxPerSession: number;
  maxPerUser: number;
  /** How often every socket's session is re-read (expiry, idle timeout, a lost control message). */
  checkIntervalMs: number;
}

interface Entry {
  ws: WebSocket;
  address: string;
  identity: SocketIdentity | null;
  deadline: NodeJS.Timeout | undefined;
  closing: boolean;
}

// Time for tRPC to send the subscriptions' UNAUTHORIZED frames (written from their async iterators)
// ahead of the close frame, so wsLink sees why and does not retry them.
const CLOSE_GRACE_MS = 50;

function add<K>(index: Map<K, Set<Entry>>, key: K, entry: Entry): void {
  const set = index.get(key) ?? new Set<Entry>();
  set.add(entry);
  index.set(key, set);
}

function remove<K>(index: Map<K, Set<Entry>>, key: K, entry: Entry): void {
  const set = index.get(key);
  set?.delete(entry);
  if (set?.size === 0) index.delete(key);
}

/**
 * This process's open WebSockets, by session and by user. A socket's identity is fixed when it
 * connects; when that identity ends (logout, revocation, expiry, deactivation, a role, department
 * or password change) the socket is closed — its subscriptions first end with UNAUTHORIZED (the
 * hub does that), then the socket closes with 4401. Fed by the control channel through the hub, by
 * a periodic re-read of every socket's session (expiry and idle timeouts, a lost control message),
 * and by the per-call re-check (server/trpc/context.ts). It also bounds what may be held open:
 * sockets without a session (a deadline and caps) and sockets per session and per user.
 */
export class SocketRegistry {
  private readonly entries = new Map<WebSocket, Entry>();
  private readonly bySession = new Map<string, Set<Entry>>();
  private readonly byUser = new Map<string, Set<Entry>>();
  private readonly anonymousByAddress = new Map<string, number>();
  private anonymous = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  /**
   * @param endSubscriptions ends this instance's subscriptions a control message names, then calls
   *   back `onControl` (the hub's applyControl), so local findings follow the same order as remote ones.
   */
  constructor(
    private readonly deps: Pick<AppDeps, 'db' | 'config' | 'log' | 'metrics' | 'sessionCache'>,
    private readonly limits: SocketLimits,
    private readonly endSubscriptions: (msg: ControlMessage) => void,
  ) {
    deps.metrics.gauge('clarion_websocket_unauthenticated', 'Open WebSockets without a valid session on this instance', (set) => set(this.anonymous));
  }

  start(): void {
    this.timer = setInterval(() => void this.checkAll(), this.limits.checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const entry of this.entries.values()) clearTimeout(entry.deadline);
  }

  get counts() {
    return { open: this.entries.size, anonymous: this.anonymous };
  }

  /** A new connection, not yet authenticated: refused (closed) when the caps for such sockets are full. */
  accept(ws: WebSocket, address: string): void {
    const fromAddress = this.anonymousByAddress.get(address) ?? 0;
    const refusal =
      this.anonymous >= this.limits.maxAnonymous
        ? { code: 4429, reason: 'Too many connections waiting to sign in on this server; retry shortly' }
        : fromAddress >= this.limits.maxAnonymousPerAddress
          ? { code: 4429, reason: `Too many connections without a session from your address (limit ${this.limits.maxAnonymousPerAddress})` }
          : null;
    if (refusal) {
      this.deps.log.warn({ address, anonymous: this.anonymous, fromAddress }, 'websocket refused: unauthenticated cap');
      ws.close(refusal.code, refusal.reason);
      return;
    }
    const seconds = Math.round(this.limits.authTimeoutMs / 1000);
    const entry: Entry = { ws, address, identity: null, deadline: undefined, closing: false };
    entry.deadline = setTimeout(() => this.close(entry, { code: 4408, reason: `No valid session within ${seconds} s; connect with a valid token` }), this.limits.authTimeoutMs);
    entry.deadline.unref();
    this.entries.set(ws, entry);
    this.countAnonymous(address, +1);
    ws.once('close', () => this.forget(entry));
  }

  /**
   * The socket's context resolved a valid session: it is bound to that identity, unless the session or
   * user already holds as many sockets as allowed — then the refusal to close it with is returned.
   */
  bind(ws: WebSocket, identity: SocketIdentity): CloseReason | null {
    const entry = this.entries.get(ws);
    if (!entry || entry.closing) return null;
    if ((this.bySession.get(identity.sessionId)?.size ?? 0) >= this.limits.maxPerSession) {
      return { code: 4429, reason: `Too many open connections for this session (limit ${this.limits.maxPerSession})` };
    }
    if ((this.byUser.get(identity.userId)?.size ?? 0) >= this.limits.maxPerUser) {
      return { code: 4429, reason: `Too many open connections for this account (limit ${this.limits.maxPerUser})` };
    }
    clearTimeout(entry.deadline);
    if (!entry.identity) this.countAnonymous(entry.address, -1);
    entry.identity = identity;
    add(this.bySession, identity.sessionId, entry);
    add(this.byUser, identity.userId, entry);
    return null;
  }

  /**
   * Closes a socket refused at bind time. Called before the context throws: tRPC then sends the error
   * and schedules its own code-less close on the next turn, and this one (scheduled first) wins.
   */
  refuse(ws: WebSocket, why: CloseReason): void {
    const entry = this.entries.get(ws);
    if (entry) setImmediate(() => this.close(entry, why, 0));
  }

  /**
   * Ends a session's sockets on this instance (a call or the periodic check found it no longer valid):
   * through the hub, so its subscriptions end with UNAUTHORIZED before the socket closes.
   */
  endSession(sessionId: string): void {
    this.endSubscriptions({ type: 'sessions.revoked', sessionIds: [sessionId] });
  }

  /**
   * After the hub has ended the named subscriptions: closes the sockets of those sessions or that user.
   * Every control message passes here (another instance's from Redis, or a finding of this one), so the
   * session cache forgets here too; this instance's own actions already made it forget, in publishControl.
   */
  onControl(msg: ControlMessage): void {
    this.deps.sessionCache.apply(msg);
    const targets = msg.type === 'sessions.revoked' ? msg.sessionIds.flatMap((id) => [...(this.bySession.get(id) ?? [])]) : [...(this.byUser.get(msg.userId) ?? [])];
    for (const entry of targets) this.close(entry, SESSION_ENDED);
  }

  private close(entry: Entry, why: CloseReason, graceMs = CLOSE_GRACE_MS): void {
    if (entry.closing) return;
    entry.closing = true;
    clearTimeout(entry.deadline);
    this.deps.log.info({ userId: entry.identity?.userId, code: why.code, reason: why.reason }, 'websocket closed by the server');
    if (graceMs === 0) entry.ws.close(why.code, why.reason);
    else setTimeout(() => entry.ws.close(why.code, why.reason), graceMs).unref();
  }

  private forget(entry: Entry): void {
    clearTimeout(entry.deadline);
    this.entries.delete(entry.ws);
    if (entry.identity) {
      remove(this.bySession, entry.identity.sessionId, entry);
      remove(this.byUser, entry.identity.userId, entry);
    } else this.countAnonymous(entry.address, -1);
  }

  private countAnonymous(address: string, delta: number): void {
    this.anonymous += delta;
    const n = (this.anonymousByAddress.get(address) ?? 0) + delta;
    if (n > 0) this.anonymousByAddress.set(address, n);
    else this.anonymousByAddress.delete(address);
  }

  /** Re-reads every bound socket's session; one that ended or changed identity is closed. */
  private async checkAll(): Promise<void> {
    if (this.checking || this.bySession.size === 0) return;
    this.checking = true;
    try {
      const asked = [...this.bySession.keys()];
      const live = await liveIdentities(this.deps.db, asked, this.deps.config.auth.sessionIdleMinutes);
      // Only the sessions that were asked about: a socket that bound during the read is absent from
      // its answer, not ended (it was checked when it bound; the next round reads it).
      for (const sessionId of asked) {
        const set = this.bySession.get(sessionId);
        if (!set) continue;
        const now = live.get(sessionId);
        const stale = [...set].some((e) => e.identity && (!now || !sameIdentity(now, e.identity)));
        if (stale) this.endSession(sessionId);
      }
    } catch (err) {
      // Postgres unavailable: calls are refused by their own re-check; try again next round.
      this.deps.log.warn({ err: err instanceof Error ? err.message : err }, 'socket session check failed');
    } finally {
      this.checking = false;
    }
  }
}
