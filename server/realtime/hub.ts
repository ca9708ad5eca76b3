import { TRPCError } from '@trpc/server';
import { readHospitalEventsAfter, eventsChannel, latestEventId, toWireEvent } from '../alerts/events.js';
import { openPagedAlerts } from '../alerts/pages.js';
import type { AlertEvent } from '../alerts/schemas.js';
import type { AlertScope } from '../alerts/visibility.js';
import type pg from 'pg';
import { openAlertStatuses } from '../db/enums.js';
import { createDatabase, createPool, type Database } from '../db/client.js';
import type { AppDeps } from '../deps.js';
import { createBlockingRedis, type Redis } from '../redis.js';
import { SubscriptionAdmission } from './admission.js';
import { type ControlMessage, controlChannel } from './control.js';
import { EncodedEvent } from './frames.js';

/** One live subscription on this instance. */
export interface LocalSubscriber {
  userId: string;
  sessionId: string;
  scope: AlertScope;
  /** `encoded` is the event's shared frame tail, encoded at most once however many sockets write it. */
  deliver(event: AlertEvent, encoded: EncodedEvent): void;
  /** True once the hub writes this subscription's frames itself (a WebSocket after its hand-off). */
  readonly direct?: boolean;
  end(err: Error): void;
}

type EventRow = Awaited<ReturnType<typeof readHospitalEventsAfter>>[number];

interface HospitalState {
  lastSeen: number;
  /** Subscribers by department id; '*' holds the whole-hospital ones. */
  byDepartment: Map<string, Set<LocalSubscriber>>;
  /** Department-scoped subscribers by user: an alert paged to them reaches them from any department. */
  byUser: Map<string, Set<LocalSubscriber>>;
  /** Open alerts paged to people, learnt from `paged` events and from each paged user's registration. */
  pagedTo: Map<string, Set<string>>;
  ready: Promise<void>;
  fetching: boolean;
  again: boolean;
}

const ALL = '*';
const BATCH = 500;

export interface HubStats {
  subscribers: number;
  /** Of which written directly by the hub (WebSocket subscriptions past their hand-off). */
  direct: number;
  hospitals: number;
  delivered: number;
  fetches: number;
}

/**
 * The per-process fan-out. Redis messages are wake-ups; the events of record are read from Postgres
 * (`id > lastSeen`, in commit order) on every wake-up, on a short tick, and after Redis reconnects,
 * so a lost or reordered publish costs latency, never an event. Subscribers are indexed by hospital
 * and department, so an event touches only the screens that may see it.
 */
export class EventHub {
  private readonly hospitals = new Map<string, HospitalState>();
  private readonly subscriber: Redis;
  /** The fan-out's own small pool: its reads must not queue behind request traffic or alert writes. */
  private readonly pool: pg.Pool;
  private readonly db: Database;
  private tick: NodeJS.Timeout | undefined;
  private readonly stats: HubStats = { subscribers: 0, direct: 0, hospitals: 0, delivered: 0, fetches: 0 };
  /** Subscriptions per socket and per session on this instance (alerts.onEvent takes a slot). */
  readonly admission: SubscriptionAdmission;

  constructor(
    private readonly deps: Pick<AppDeps, 'db' | 'config' | 'log' | 'metrics'>,
    private readonly tickMs = 1_000,
  ) {
    this.pool = createPool(deps.config, { max: 2 });
    this.pool.on('error', (err) => deps.log.warn({ err: err.message }, 'fan-out postgres client failed; the pool will replace it'));
    this.db = createDatabase(this.pool);
    this.admission = new SubscriptionAdmission(deps.config.subscriptions);
    deps.metrics.gauge('clarion_alert_subscriptions', 'Live alerts.onEvent subscriptions on this instance', (set) => set(this.statistics.subscribers));
    this.subscriber = createBlockingRedis(deps.config.redis, `${deps.config.redis.keyPrefix}-fanout`);
    this.subscriber.on('error', (err) => deps.log.debug({ err: err.message }, 'fan-out redis error'));
    // ioredis re-subscribes on reconnect; whatever was published meanwhile is read from Postgres now.
    this.subscriber.on('ready', () => this.catchUpAll());
    this.subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /**
   * The tick first: it is what delivers while Redis is down. The SUBSCRIBE is not awaited — on this
   * (queueing) connection it would wait for Redis to come back, and a server started during an outage
   * would then never tick.
   */
  async start(): Promise<void> {
    this.tick = setInterval(() => this.catchUpAll(), this.tickMs);
    this.tick.unref();
    this.subscriber.subscribe(controlChannel(this.deps)).catch((err) => {
      this.deps.log.warn({ err: err.message }, 'control channel not subscribed yet; will retry on reconnect');
    });
  }

  async stop(): Promise<void> {
    if (this.tick) clearInterval(this.tick);
    this.subscriber.disconnect();
    await this.pool.end();
  }

  get statistics(): HubStats {
    let subscribers = 0;
    let direct = 0;
    for (const h of this.hospitals.values()) {
      for (const set of h.byDepartment.values()) {
        subscribers += set.size;
        for (const s of set) if (s.direct) direct++;
      }
    }
    return { ...this.stats, subscribers, direct, hospitals: this.hospitals.size };
  }

  /**
   * Resolves once the subscriber will receive every event committed after this moment. That rests on
   * Postgres alone (every later commit has a higher id than `lastSeen`, and the tick reads `id >
   * lastSeen`), so only the Postgres read is awaited. The Redis SUBSCRIBE — a wake-up that only cuts
   * latency — runs in the background: while Redis is down it waits in the connection's queue, and a
   * board registering meanwhile must not wait with it.
   */
  async register(sub: LocalSubscriber): Promise<void> {
    const h = sub.scope.hospitalId;
    let state = this.hospitals.get(h);
    if (!state) {
      const fresh: HospitalState = { lastSeen: 0, byDepartment: new Map(), byUser: new Map(), pagedTo: new Map(), ready: Promise.resolve(), fetching: false, again: false };
      this.subscriber.subscribe(eventsChannel(this.deps, h)).then(
        // Anything published before the subscription took effect is read now rather than on the tick.
        () => void this.catchUp(h),
        (err) => this.deps.log.warn({ err: err.message, hospitalId: h }, 'hospital channel not subscribed; relying on the tick until Redis returns'),
      );
      fresh.ready = latestEventId(this.db, h).then((id) => {
        fresh.lastSeen = id;
      });
      this.hospitals.set(h, fresh);
      state = fresh;
    }
    const key = sub.scope.departmentId ?? ALL;
    const set = state.byDepartment.get(key) ?? new Set<LocalSubscriber>();
    state.byDepartment.set(key, set);
    set.add(sub);
    const paged = sub.scope.departmentId !== null && sub.scope.pagedTo ? this.watchPages(state, sub) : Promise.resolve();
    try {
      await Promise.all([state.ready, paged]);
    } catch (err) {
      this.unregister(sub);
      throw err;
    }
  }

  unregister(sub: LocalSubscriber): void {
    const state = this.hospitals.get(sub.scope.hospitalId);
    if (!state) return;
    const key = sub.scope.departmentId ?? ALL;
    const set = state.byDepartment.get(key);
    // Idempotent: a subscription whose register failed (and unregistered itself) unregisters again on its way out.
    if (!set?.delete(sub)) return;
    if (set.size === 0) state.byDepartment.delete(key);
    const mine = state.byUser.get(sub.userId);
    if (mine?.delete(sub) && mine.size === 0) state.byUser.delete(sub.userId);
    if (state.byDepartment.size === 0) {
      this.hospitals.delete(sub.scope.hospitalId);
      this.subscriber.unsubscribe(eventsChannel(this.deps, sub.scope.hospitalId)).catch(() => undefined);
    }
  }

  private onMessage(channel: string, message: string): void {
    if (channel === controlChannel(this.deps)) {
      this.onControl(message);
      return;
    }
    const hospitalId = channel.split(':').at(-2);
    if (hospitalId) void this.catchUp(hospitalId);
  }

  private onControl(raw: string): void {
    let msg: ControlMessage;
    try {
      msg = JSON.parse(raw) as ControlMessage;
    } catch {
      return;
    }
    this.applyControl(msg);
  }

  /** Set by the socket registry (server/realtime/sockets.ts): closes the sockets once their subscriptions have ended. */
  afterControl: ((msg: ControlMessage) => void) | undefined;

  /** Ends this instance's subscriptions that a control message names (from Redis, or found locally), then closes their sockets. */
  applyControl(msg: ControlMessage): void {
    const matches = (s: LocalSubscriber) =>
      msg.type === 'sessions.revoked' ? msg.sessionIds.includes(s.sessionId) : msg.type === 'user.changed' && msg.userId === s.userId;
    for (const state of this.hospitals.values()) {
      for (const set of state.byDepartment.values()) {
        for (const s of set) if (matches(s)) s.end(new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session has ended; sign in again' }));
      }
    }
    this.afterControl?.(msg);
  }

  /**
   * A department-scoped subscriber also sees the open alerts paged to its user (alerts/visibility.ts):
   * index it by user and learn which open alerts those are. A page committed after this read arrives
   * as a `paged` event past lastSeen, so between the two nothing is missed.
   */
  private async watchPages(state: HospitalState, sub: LocalSubscriber): Promise<void> {
    const mine = state.byUser.get(sub.userId) ?? new Set<LocalSubscriber>();
    state.byUser.set(sub.userId, mine);
    mine.add(sub);
    for (const alertId of await openPagedAlerts(this.db, sub.scope.hospitalId, sub.userId)) {
      const users = state.pagedTo.get(alertId) ?? new Set<string>();
      users.add(sub.userId);
      state.pagedTo.set(alertId, users);
    }
  }

  /** One event to every local subscriber that may see it; metrics per event, not per socket. */
  private fanOut(state: HospitalState, row: EventRow): void {
    const event = toWireEvent(row);
    const encoded = new EncodedEvent(event);
    let delivered = 0;
    // A hospital code goes to every board of the hospital, whatever its department.
    const code = event.alert.code !== null;
    for (const key of code ? state.byDepartment.keys() : [row.departmentId, ALL]) {
      const set = state.byDepartment.get(key);
      if (!set) continue;
      for (const s of set) s.deliver(event, encoded);
      delivered += set.size;
    }
    if (!code) delivered += this.fanOutPaged(state, row, event, encoded);
    state.lastSeen = row.id;
    if (!delivered) return;
    this.stats.delivered += delivered;
    this.deps.metrics.eventsDelivered.inc({ mode: 'live' }, delivered);
    this.deps.metrics.deliveryLatency.observe(Math.max(0, Date.now() - row.occurredAt.getTime()) / 1000);
  }

  /** The event to paged people whose own department is another; the set is dropped when the alert closes. */
  private fanOutPaged(state: HospitalState, row: EventRow, event: AlertEvent, encoded: EncodedEvent): number {
    if (row.type === 'paged') {
      const users = state.pagedTo.get(row.alertId) ?? new Set<string>();
      for (const id of (row.detail as { userIds?: string[] } | null)?.userIds ?? []) users.add(id);
      state.pagedTo.set(row.alertId, users);
    }
    const users = state.pagedTo.get(row.alertId);
    if (!users) return 0;
    let delivered = 0;
    for (const userId of users) {
      for (const s of state.byUser.get(userId) ?? []) {
        if (s.scope.departmentId === row.departmentId) continue;
        s.deliver(event, encoded);
        delivered++;
      }
    }
    if (!(openAlertStatuses as readonly string[]).includes(event.alert.status)) state.pagedTo.delete(row.alertId);
    return delivered;
  }

  private catchUpAll(): void {
    for (const id of this.hospitals.keys()) void this.catchUp(id);
  }

  /** Reads and fans out everything after lastSeen; one reader per hospital at a time, re-run if woken meanwhile. */
  private async catchUp(hospitalId: string): Promise<void> {
    const state = this.hospitals.get(hospitalId);
    if (!state) return;
    if (state.fetching) {
      state.again = true;
      return;
    }
    state.fetching = true;
    try {
      await state.ready;
      do {
        state.again = false;
        const rows = await readHospitalEventsAfter(this.db, hospitalId, state.lastSeen, BATCH);
        this.stats.fetches++;
        for (const row of rows) this.fanOut(state, row);
        if (rows.length === BATCH) state.again = true;
      } while (state.again && this.hospitals.has(hospitalId));
    } catch (err) {
      this.deps.log.warn({ err: err instanceof Error ? err.message : err, hospitalId }, 'fan-out read failed; retrying on the next tick');
    } finally {
      state.fetching = false;
    }
  }
}
