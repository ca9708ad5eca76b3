import { randomUUID } from 'node:crypto';
import { TRPCError, tracked } from '@trpc/server';
import { and, count, gt } from 'drizzle-orm';
import type WebSocket from 'ws';
import type { AuthSession } from '../auth/sessions.js';
import { alertEvents } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { toTRPCError } from '../errors.js';
import { awaitDrain } from '../realtime/backpressure.js';
import type { EventHub, LocalSubscriber } from '../realtime/hub.js';
import { announceScreen, HEARTBEAT_MS, withdrawScreen } from '../realtime/presence.js';
import { BoundedQueue, QueueOverflowError } from '../realtime/queue.js';
import { sessionStillValid } from '../realtime/session-check.js';
import { latestEventId, prunedThrough, readEventsAfter } from './events.js';
import type { AlertEvent } from './schemas.js';
import { type AlertScope, alertScope, scopeWhere } from './visibility.js';

/** Beyond this many missed events a client should reload the snapshot rather than replay. */
export const MAX_REPLAY = 10_000;
const QUEUE_LIMIT = 2_000;
// A replay page is held in memory while the socket drains; small pages keep that per-subscription cost low.
const REPLAY_PAGE = 200;
const SESSION_CHECK_MS = 30_000;
const SCREEN_ROLES = new Set(['nurse', 'doctor', 'head_doctor']);

type StreamDeps = Pick<AppDeps, 'db' | 'config' | 'log' | 'redis' | 'metrics'>;

export interface StreamOptions {
  deps: StreamDeps;
  hub: EventHub;
  auth: AuthSession;
  lastEventId?: string;
  signal?: AbortSignal;
  socket?: WebSocket;
}

const resync = (message: string) => new TRPCError({ code: 'PRECONDITION_FAILED', message });
const sessionEnded = () => new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session has ended; sign in again' });

/** Where the replay starts: validates `lastEventId` against the log (and how much is missed). */
async function replayCursor(deps: StreamDeps, scope: AlertScope, lastEventId: string): Promise<number> {
  const latest = await latestEventId(deps.db, scope.hospitalId);
  const cursor = Number(lastEventId);
  if (cursor > latest) throw resync('lastEventId is ahead of the event log; reload the board');
  // "0" means from the beginning of what is kept; any other id below the retention watermark is gone.
  if (cursor > 0 && cursor < (await prunedThrough(deps.db, scope.hospitalId))) throw resync('Events after lastEventId are no longer kept; reload the board');
  const [row] = await deps.db
    .select({ n: count() })
    .from(alertEvents)
    .where(and(scopeWhere(scope, alertEvents), gt(alertEvents.id, cursor)));
  if ((row?.n ?? 0) > MAX_REPLAY) throw resync('Too many events missed to replay; reload the board');
  return cursor;
}

/**
 * alerts.onEvent: listen first (buffering), replay what the client missed from Postgres, then go live,
 * skipping anything the replay already sent — so there is no gap and no duplicate between the two.
 * Nothing here waits on Redis: registration and replay read Postgres, and presence is fire-and-forget.
 * Every frame, replay or live, waits for the socket's send buffer to drain under its bound; a socket
 * that does not drain within the timeout is disconnected (the client reconnects and resumes).
 * Everything started is released in the one `finally`, on every way out.
 */
export async function* alertEventStream(opts: StreamOptions) {
  const { deps, hub, auth, signal, socket } = opts;
  const scope = alertScope(auth.user);
  const queue = new BoundedQueue<AlertEvent>(QUEUE_LIMIT);
  const sub: LocalSubscriber = {
    userId: auth.user.id,
    sessionId: auth.session.id,
    scope,
    deliver: (e) => queue.push(e),
    end: (err) => queue.fail(err),
  };
  const onAbort = () => queue.close();
  signal?.addEventListener('abort', onAbort);
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => {
    const timer = setInterval(fn, ms);
    timer.unref();
    timers.push(timer);
  };
  let release: () => void = () => undefined;
  let screen: { dept: string; id: string } | null = null;

  /** False when the stream must stop: the client went away, the hub ended it, or the socket stalled. */
  const mayWrite = async () => {
    const result = await awaitDrain(socket, deps.config.subscriptions.drainTimeoutMs, () => queue.settled || signal?.aborted === true);
    if (result === 'stalled') {
      deps.log.warn({ userId: auth.user.id, buffered: socket?.bufferedAmount }, 'subscriber stopped reading; socket disconnected');
      socket?.terminate();
    }
    queue.throwIfFailed();
    return result === 'ok';
  };

  try {
    if (signal?.aborted) return;
    release = hub.admission.admit(auth.session.id, socket);
    await hub.register(sub);
    if (signal?.aborted) return;

    every(SESSION_CHECK_MS, () => {
      sessionStillValid(deps.db, auth.session.id, auth.user, deps.config.auth.sessionIdleMinutes)
        .then((ok) => ok || sub.end(sessionEnded()))
        .catch(() => undefined);
    });
    // A clinician's board counts as a screen of their department while it is subscribed.
    if (SCREEN_ROLES.has(auth.user.role) && auth.user.departmentId) {
      const current = { dept: auth.user.departmentId, id: randomUUID() };
      screen = current;
      const beat = () => void announceScreen(deps, scope.hospitalId, current.dept, current.id).catch(() => undefined);
      beat();
      every(HEARTBEAT_MS, beat);
    }

    let cursor = await latestEventId(deps.db, scope.hospitalId);
    if (opts.lastEventId !== undefined) {
      cursor = await replayCursor(deps, scope, opts.lastEventId);
      for (;;) {
        const page = await readEventsAfter(deps.db, scope, cursor, REPLAY_PAGE);
        for (const event of page) {
          if (!(await mayWrite())) return;
          deps.metrics.eventsDelivered.inc({ mode: 'replay' });
          yield tracked(event.id, event);
          cursor = Number(event.id);
        }
        if (page.length < REPLAY_PAGE) break;
      }
    }
    for (;;) {
      const next = await queue.next();
      if (next.done) return;
      const event = next.value;
      if (Number(event.id) <= cursor) continue;
      if (!(await mayWrite())) return;
      deps.metrics.eventsDelivered.inc({ mode: 'live' });
      deps.metrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(event.occurredAt)) / 1000);
      yield tracked(event.id, event);
      cursor = Number(event.id);
    }
  } catch (err) {
    // Fell too far behind: a 5xx-class code makes the client reconnect and replay from its last id.
    if (err instanceof QueueOverflowError) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Fell behind; reconnect to catch up' });
    // Errors thrown while iterating bypass the procedure middleware: map them here (a Postgres blip is 503).
    throw toTRPCError(err);
  } finally {
    for (const timer of timers) clearInterval(timer);
    if (screen) withdrawScreen(deps, scope.hospitalId, screen.dept, screen.id).catch(() => undefined);
    signal?.removeEventListener('abort', onAbort);
    hub.unregister(sub);
    release();
  }
}
