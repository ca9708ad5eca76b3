import { randomUUID } from 'node:crypto';
import { TRPCError, tracked } from '@trpc/server';
import { and, count, gt } from 'drizzle-orm';
import type WebSocket from 'ws';
import type { AuthSession } from '../auth/sessions.js';
import { alertEvents } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import type { EventHub, LocalSubscriber } from '../realtime/hub.js';
import { announceScreen, HEARTBEAT_MS, withdrawScreen } from '../realtime/presence.js';
import { BoundedQueue, QueueOverflowError } from '../realtime/queue.js';
import { sessionStillValid } from '../realtime/session-check.js';
import { latestEventId, prunedThrough, readEventsAfter } from './events.js';
import type { AlertEvent } from './schemas.js';
import { alertScope, scopeWhere } from './visibility.js';

/** Beyond this many missed events a client should reload the snapshot rather than replay. */
export const MAX_REPLAY = 10_000;
const QUEUE_LIMIT = 2_000;
// ~150 events of backlog per socket: beyond that the screen reconnects and replays (memory stays bounded).
const SOCKET_BUFFER_LIMIT = 256 * 1024;
const SESSION_CHECK_MS = 30_000;

export interface StreamOptions {
  deps: Pick<AppDeps, 'db' | 'config' | 'log' | 'redis' | 'metrics'>;
  hub: EventHub;
  auth: AuthSession;
  lastEventId?: string;
  signal?: AbortSignal;
  socket?: WebSocket;
}

const resync = (message: string) => new TRPCError({ code: 'PRECONDITION_FAILED', message });

/**
 * alerts.onEvent: listen first (buffering), replay what the client missed from Postgres, then go live,
 * skipping anything the replay already sent — so there is no gap and no duplicate between the two.
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
  const check = setInterval(() => {
    sessionStillValid(deps.db, auth.session.id, auth.user, deps.config.auth.sessionIdleMinutes)
      .then((ok) => ok || sub.end(new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session has ended; sign in again' })))
      .catch(() => undefined);
  }, SESSION_CHECK_MS);
  check.unref();

  // A clinician's board counts as a screen of their department while it is subscribed.
  const screen = ['nurse', 'doctor', 'head_doctor'].includes(auth.user.role) && auth.user.departmentId ? { dept: auth.user.departmentId, id: randomUUID() } : null;
  const beat = () => {
    if (screen) announceScreen(deps, scope.hospitalId, screen.dept, screen.id).catch(() => undefined);
  };
  beat();
  const presence = screen ? setInterval(beat, HEARTBEAT_MS) : undefined;
  presence?.unref();

  await hub.register(sub);
  try {
    const latest = await latestEventId(deps.db, scope.hospitalId);
    let cursor = latest;
    if (opts.lastEventId !== undefined) {
      cursor = Number(opts.lastEventId);
      if (cursor > latest) throw resync('lastEventId is ahead of the event log; reload the board');
      // "0" means from the beginning of what is kept; any other id below the retention watermark is gone.
      if (cursor > 0 && cursor < (await prunedThrough(deps.db, scope.hospitalId))) throw resync('Events after lastEventId are no longer kept; reload the board');
      const [row] = await deps.db
        .select({ n: count() })
        .from(alertEvents)
        .where(and(scopeWhere(scope, alertEvents), gt(alertEvents.id, cursor)));
      if ((row?.n ?? 0) > MAX_REPLAY) throw resync('Too many events missed to replay; reload the board');
      for (;;) {
        const page = await readEventsAfter(deps.db, scope, cursor, 500);
        for (const event of page) {
          deps.metrics.eventsDelivered.inc({ mode: 'replay' });
          yield tracked(event.id, event);
          cursor = Number(event.id);
        }
        if (page.length < 500 || signal?.aborted) break;
      }
    }
    for (;;) {
      const next = await queue.next().catch((err) => {
        // Fell too far behind: a 5xx-class code makes wsLink reconnect and replay from its last id.
        throw err instanceof QueueOverflowError ? new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Fell behind; reconnect to catch up' }) : err;
      });
      if (next.done) return;
      const event = next.value;
      if (Number(event.id) <= cursor) continue;
      if (socket && socket.bufferedAmount > SOCKET_BUFFER_LIMIT) {
        // A screen that cannot keep up is disconnected, not buffered without limit; it reconnects and replays.
        deps.log.warn({ userId: auth.user.id, buffered: socket.bufferedAmount }, 'slow subscriber disconnected');
        socket.terminate();
        return;
      }
      deps.metrics.eventsDelivered.inc({ mode: 'live' });
      deps.metrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(event.occurredAt)) / 1000);
      yield tracked(event.id, event);
      cursor = Number(event.id);
    }
  } finally {
    clearInterval(check);
    if (presence) clearInterval(presence);
    if (screen) withdrawScreen(deps, scope.hospitalId, screen.dept, screen.id).catch(() => undefined);
    signal?.removeEventListener('abort', onAbort);
    hub.unregister(sub);
  }
}
