import { useCallback, useEffect, useRef } from 'react';
import type { Alert } from '../lib/alertStore.js';
import { type Chime, sound } from '../lib/sound.js';

/**
 * How often a waiting alert calls again until someone acknowledges it (as PagerDuty and Vocera do):
 * a critical every 15 s, a high every 30 s, a medium every 60 s (a softer reminder); a low alert
 * chimes never on its own — it is routine work and would train people to ignore the board.
 */
export const RE_ALERT_MS: Record<Alert['priority'], number | null> = { critical: 15_000, high: 30_000, medium: 60_000, low: null };
const RE_ALERT_CHIME: Record<Alert['priority'], Chime> = { critical: 'critical', high: 'high', medium: 'reminder', low: 'reminder' };
/** A board that cannot hear new alerts says so again every minute until the link is back. */
export const CONNECTION_REMINDER_MS = 60_000;
const TICK_MS = 250;

/**
 * Keeps calling for every waiting alert (active, and not in its undo window) at its priority's
 * interval, counted from the last time that alert chimed. Several due together make one chime, of the
 * most urgent priority. A hospital code calls with its own chime (which a snooze does not silence) until
 * someone presses Responding or acknowledges it; a shelved alert never calls. Also sounds the lost-connection chime when the link is lost, and every minute
 * while it stays lost.
 */
export function useReAlert(alerts: Alert[], quiet: ReadonlySet<string>, connectionLost: boolean) {
  const lastCalled = useRef(new Map<string, number>());
  const waitingRef = useRef<Alert[]>([]);
  waitingRef.current = alerts.filter((a) => a.status === 'active' && !quiet.has(a.id) && !(a.code && a.responders.length > 0));
  const lostRef = useRef<number | null>(null);

  useEffect(() => {
    if (!connectionLost) {
      lostRef.current = null;
      return;
    }
    sound.play('connection');
    lostRef.current = Date.now();
  }, [connectionLost]);

  useEffect(() => {
    const timer = setInterval(() => {
      const now = Date.now();
      const calls = lastCalled.current;
      const waiting = waitingRef.current;
      const ids = new Set(waiting.map((a) => a.id));
      for (const id of calls.keys()) if (!ids.has(id)) calls.delete(id);
      let due: Alert | null = null;
      const dueIds: string[] = [];
      for (const a of waiting) {
        const last = calls.get(a.id);
        // First sight (a snapshot after load or reconnect): its clock starts now.
        if (last === undefined) {
          calls.set(a.id, now);
          continue;
        }
        const every = RE_ALERT_MS[a.priority];
        if (every === null || now - last < every) continue;
        dueIds.push(a.id);
        if (!due || RE_ALERT_MS[a.priority]! < RE_ALERT_MS[due.priority]!) due = a;
      }
      if (due) {
        sound.play(waiting.some((a) => a.code && dueIds.includes(a.id)) ? 'code' : RE_ALERT_CHIME[due.priority], true);
        for (const id of dueIds) calls.set(id, now);
      }
      if (lostRef.current !== null && now - lostRef.current >= CONNECTION_REMINDER_MS) {
        sound.play('connection', true);
        lostRef.current = now;
      }
    }, TICK_MS);
    return () => clearInterval(timer);
  }, []);

  /** An alert that just chimed for an event (new, repeated, escalated) counts its interval from now. */
  const called = useCallback((id: string) => lastCalled.current.set(id, Date.now()), []);
  return { called };
}
