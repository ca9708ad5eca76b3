import { useCallback, useEffect, useRef, useState } from 'react';
import { client, errorCode, errorMessage } from '../lib/api.js';
import type { Alert } from '../lib/alertStore.js';

/** How long a tapped Acknowledge waits, with a visible countdown and Undo, before it is sent. */
export const UNDO_MS = 5_000;

export interface PendingAck {
  sendAt: number;
  sending: boolean;
}

/**
 * One tap acknowledges, with a real undo: the acknowledgement is held on this screen for UNDO_MS and
 * only then sent (the API has no "un-acknowledge", and inventing one would let an acknowledgement
 * vanish after others saw it). Undo within the window and nothing was sent. A held acknowledgement is
 * dropped if the alert stops waiting meanwhile (someone else took it, or it was resolved).
 */
export function useUndoableAck(alerts: Alert[]) {
  const [pending, setPending] = useState<ReadonlyMap<string, PendingAck>>(new Map());
  const [errors, setErrors] = useState<ReadonlyMap<string, string>>(new Map());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  const drop = useCallback((id: string) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setPending((m) => {
      if (!m.has(id)) return m;
      const next = new Map(m);
      next.delete(id);
      return next;
    });
  }, []);

  const send = useCallback(
    async (id: string) => {
      timers.current.delete(id);
      setPending((m) => new Map(m).set(id, { sendAt: Date.now(), sending: true }));
      try {
        await client.alerts.acknowledge.mutate({ alertId: id });
        // The tile turns acknowledged from the server's event (which drops this); the timer only
        // covers an event that never comes, so the tile cannot stay "Acknowledging…" for ever.
        setTimeout(() => drop(id), UNDO_MS);
      } catch (err) {
        const text = errorCode(err) === 'CONFLICT' ? 'Someone else has already changed this alert.' : `Not acknowledged: ${errorMessage(err)}`;
        setErrors((m) => new Map(m).set(id, text));
        drop(id);
      }
    },
    [drop],
  );

  const acknowledge = useCallback(
    (alert: Alert) => {
      if (timers.current.has(alert.id)) return;
      setErrors((m) => {
        if (!m.has(alert.id)) return m;
        const next = new Map(m);
        next.delete(alert.id);
        return next;
      });
      setPending((m) => new Map(m).set(alert.id, { sendAt: Date.now() + UNDO_MS, sending: false }));
      timers.current.set(
        alert.id,
        setTimeout(() => void send(alert.id), UNDO_MS),
      );
    },
    [send],
  );

  /** Undo the given acknowledgement, or the latest one still held. */
  const undo = useCallback(
    (id?: string) => {
      const target = id ?? [...timers.current.keys()].at(-1);
      if (target && timers.current.has(target)) drop(target);
    },
    [drop],
  );

  // Someone else acknowledged or resolved it while we held ours: nothing left to send.
  useEffect(() => {
    const waiting = new Set(alerts.filter((a) => a.status === 'active').map((a) => a.id));
    for (const id of pending.keys()) if (!waiting.has(id)) drop(id);
  }, [alerts, pending, drop]);

  useEffect(() => {
    const all = timers.current;
    return () => {
      for (const t of all.values()) clearTimeout(t);
    };
  }, []);

  return { pending, errors, acknowledge, undo };
}
