import { useEffect, useReducer, useRef, useState } from 'react';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { client, errorCode } from './api.js';
import { type Alert, AlertStore } from './alertStore.js';

export interface FeedOptions {
  /** The console keeps resolved/cancelled alerts in its (capped) recent list. */
  keepClosed?: boolean;
  /** Called for every live event (not for the initial snapshot): sounds hang off this. */
  onEvent?: (event: AlertEvent) => void;
  /** Called with the alerts of each (re)loaded snapshot. */
  onSnapshot?: (alerts: Alert[]) => void;
  /** The snapshot to start from (default alerts.getActive; My alerts loads alerts.myPages). */
  snapshot?: () => Promise<{ alerts: Alert[]; lastEventId: string }>;
  /**
   * Whether an event about an alert this screen does not show yet adds it (default: every one).
   * My alerts admits only a `paged` event that names me; events of alerts shown always apply.
   */
  admits?: (event: AlertEvent) => boolean;
}

export interface Feed {
  store: AlertStore;
  loaded: boolean;
  error: string | null;
  /** Bumped on every change, so memoised views recompute. */
  revision: number;
}

const RETRY_MS = 2_000;
const HYDRATE_MAX = 20;

/**
 * A reloaded screen learns from the alerts' histories what the records alone do not say (reopened
 * after an acknowledgement timeout, declined with a reason). Only escalated open alerts can carry
 * either (both raise the level), and at most HYDRATE_MAX of them, in one batched request.
 */
async function hydrateNotes(store: AlertStore, alerts: Alert[]): Promise<boolean> {
  const candidates = alerts.filter((a) => a.status === 'active' && a.escalationLevel > 0).slice(0, HYDRATE_MAX);
  const details = await Promise.all(candidates.map((a) => client.alerts.getById.query({ alertId: a.id }).catch(() => null)));
  let changed = false;
  for (const d of details) {
    // A live event has moved the alert on since: it knows better than this history.
    if (!d || store.get(d.alert.id)?.version !== d.alert.version) continue;
    for (const e of d.events) changed = store.applyEvent(e) || changed;
  }
  return changed;
}

/**
 * Snapshot, then live: loads alerts.getActive and subscribes to alerts.onEvent from the event id the
 * snapshot is current to, so nothing falls between the two. wsLink resumes from the last tracked id
 * on reconnect; if the server says that id is too old (PRECONDITION_FAILED), or the subscription
 * ends for another reason, the feed reloads the snapshot and subscribes again.
 */
export function useAlertFeed({ keepClosed = false, onEvent, onSnapshot, snapshot, admits }: FeedOptions = {}): Feed {
  const [store] = useState(() => new AlertStore(keepClosed, keepClosed ? 50 : 2_000));
  const [revision, bump] = useReducer((n: number) => n + 1, 0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const onSnapshotRef = useRef(onSnapshot);
  onSnapshotRef.current = onSnapshot;
  const snapshotRef = useRef(snapshot);
  snapshotRef.current = snapshot;
  const admitsRef = useRef(admits);
  admitsRef.current = admits;

  useEffect(() => {
    let stopped = false;
    let unsubscribe: (() => void) | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;

    const restart = () => {
      unsubscribe?.();
      unsubscribe = undefined;
      if (!stopped) retry = setTimeout(() => void load(), RETRY_MS);
    };

    const load = async () => {
      try {
        const active = await (snapshotRef.current?.() ?? client.alerts.getActive.query());
        const recent: Alert[] = keepClosed ? (await client.alerts.list.query({ limit: 25 })).alerts : [];
        if (stopped) return;
        store.reset([...recent, ...active.alerts]);
        setLoaded(true);
        setError(null);
        bump();
        onSnapshotRef.current?.(active.alerts);
        if (!keepClosed) void hydrateNotes(store, active.alerts).then((changed) => changed && !stopped && bump());
        const sub = client.alerts.onEvent.subscribe(
          { lastEventId: active.lastEventId },
          {
            onData: (tracked) => {
              const event = (tracked as unknown as { data: AlertEvent }).data;
              const admit = admitsRef.current;
              if (admit && !store.get(event.alert.id) && !admit(event)) return;
              if (store.applyEvent(event)) bump();
              onEventRef.current?.(event);
            },
            onError: (err) => {
              // UNAUTHORIZED is handled globally (back to sign-in); anything else: reload and resubscribe.
              if (errorCode(err) === 'UNAUTHORIZED') return;
              restart();
            },
            onComplete: () => restart(),
          },
        );
        unsubscribe = () => sub.unsubscribe();
      } catch (err) {
        if (stopped || errorCode(err) === 'UNAUTHORIZED') return;
        setError('Could not load alerts; retrying…');
        restart();
      }
    };

    void load();
    return () => {
      stopped = true;
      clearTimeout(retry);
      unsubscribe?.();
    };
  }, [store, keepClosed]);

  return { store, loaded, error, revision };
}
