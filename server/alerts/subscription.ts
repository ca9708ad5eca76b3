import { randomUUID } from 'node:crypto';
import { TRPCError, tracked } from '@trpc/server';
import { and, gt, sql } from 'drizzle-orm';
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
import { type EncodedEvent, LiveHandoff } from '../realtime/frames.js';
import { LiveSink } from '../realtime/live-sink.js';
import { readEventsAfter } from './events.js';
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

/**
 * Where the stream starts, in one query (a board reconnecting after a restart must not cost four):
 * without `lastEventId` the newest event; with it, that id once validated against the log — not
 * ahead of it, not below the retention watermark, and not more than MAX_REPLAY events behind.
 */
async function startCursor(deps: StreamDeps, scope: AlertScope, lastEventId: string | undefined): Promise<number> {
  const cursor = lastEventId === undefined ? 0 : Number(lastEventId);
  const { rows } = await deps.db.execute<{ latest: string | null; pruned: string | null; missed: string }>(sql`
    SELECT (SELECT max(id) FROM alert_events WHERE hospital_id = ${scope.hospitalId})::text AS latest,
           (SELECT events_pruned_through FROM hospitals WHERE id = ${scope.hospitalId})::text AS pruned,
           ${lastEventId === undefined ? sql`0` : sql`(SELECT count(*) FROM (SELECT 1 FROM alert_events WHERE ${and(scopeWhere(scope, alertEvents), gt(alertEvents.id, cursor))} LIMIT ${MAX_REPLAY + 1}) missed)`}::text AS missed`);
  const latest = Number(rows[0]?.latest ?? 0);
  if (lastEventId === undefined) return latest;
  if (cursor > latest) throw resync('lastEventId is ahead of the event log; reload the board');
  // "0" means from the beginning of what is kept; any other id below the retention watermark is gone.
  if (cursor > 0 && cursor < Number(rows[0]?.pruned ?? 0)) throw resync('Events after lastEventId are no longer kept; reload the board');
  if (Number(rows[0]?.missed ?? 0) > MAX_REPLAY) throw resync('Too many events missed to replay; reload the board');
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
  // Until the hand-off (and for HTTP streams, always) live events queue here; after it, the sink takes them.
  const queue = new BoundedQueue<EncodedEvent>(QUEUE_LIMIT);
  let sink: LiveSink | undefined;
  const sub: LocalSubscriber = {
    userId: auth.user.id,
    sessionId: auth.session.id,
    scope,
    deliver: (_event, encoded) => (sink ? sink.offer(encoded) : queue.push(encoded)),
    end: (err) => (sink ? sink.end(err) : queue.fail(err)),
    get direct() {
      return sink !== undefined;
    },
  };
  const onAbort = () => {
    queue.close();
    sink?.close();
  };
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
  const stalled = () => {
    deps.log.warn({ userId: auth.user.id, buffered: socket?.bufferedAmount }, 'subscriber stopped reading; socket disconnected');
    socket?.terminate();
  };
  const mayWrite = async () => {
    const result = await awaitDrain(socket, deps.config.subscriptions.drainTimeoutMs, () => queue.settled || signal?.aborted === true);
    if (result === 'stalled') stalled();
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

    let cursor = await startCursor(deps, scope, opts.lastEventId);
    if (opts.lastEventId !== undefined) {
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
      const event = next.value.event;
      if (next.value.id <= cursor) continue;
      if (!(await mayWrite())) return;
      if (socket) {
        // Over a WebSocket this first live event is the hand-off: tRPC sends it, its encoder tells the
        // sink the subscription's id, and from then on the hub writes the shared frames itself.
        const live = new LiveSink({ socket, cursor: next.value.id, queueLimit: QUEUE_LIMIT, drainTimeoutMs: deps.config.subscriptions.drainTimeoutMs, onStall: () => stalled() });
        sink = live;
        for (const waiting of queue.drain()) live.offer(waiting);
        yield tracked(event.id, new LiveHandoff(event, (id, jsonrpc) => live.bind(id, jsonrpc)));
        await live.done;
        return;
      }
      yield tracked(event.id, event);
      cursor = next.value.id;
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
