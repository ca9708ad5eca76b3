import { useCallback, useEffect, useRef, useState } from 'react';
import type { Alert, AlertEvent } from '../lib/alertStore.js';
import { receipts } from '../lib/receipts.js';

const SEEN_RATIO = 0.5;

/**
 * A board's delivery receipts: "delivered" for every event (and snapshot alert) this board shows, and
 * "seen" once per alert when at least half its tile is on screen while the page is visible (Page
 * Visibility API + IntersectionObserver). A board in a background tab, or a tile scrolled out of
 * view, is delivered but not seen. `shows` says which alerts this board displays.
 */
export function useReceipts(shows: (alert: Alert) => boolean) {
  const showsRef = useRef(shows);
  showsRef.current = shows;
  const onScreen = useRef(new Set<string>());
  const [observer, setObserver] = useState<IntersectionObserver | null>(null);

  useEffect(() => {
    const visible = () => document.visibilityState === 'visible';
    const io = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const id = (entry.target as HTMLElement).dataset.alertId;
          if (!id) continue;
          if (entry.isIntersecting && entry.intersectionRatio >= SEEN_RATIO) {
            onScreen.current.add(id);
            if (visible()) receipts.seenOnce(id);
          } else onScreen.current.delete(id);
        }
      },
      { threshold: [0, SEEN_RATIO, 1] },
    );
    const onVisibility = () => {
      if (visible()) for (const id of onScreen.current) receipts.seenOnce(id);
    };
    document.addEventListener('visibilitychange', onVisibility);
    setObserver(io);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      io.disconnect();
      onScreen.current.clear();
    };
  }, []);

  const onEvent = useCallback((event: AlertEvent) => {
    if (showsRef.current(event.alert) && (event.alert.status === 'active' || event.alert.status === 'acknowledged')) receipts.delivered(event.alert.id);
  }, []);

  const onSnapshot = useCallback((alerts: Alert[]) => {
    for (const a of alerts) if (showsRef.current(a)) receipts.delivered(a.id);
  }, []);

  /** A ref callback for a tile (React 19 calls the returned cleanup when the tile goes). */
  const tileRef = useCallback(
    (el: HTMLElement | null) => {
      if (!el || !observer) return;
      observer.observe(el);
      return () => {
        observer.unobserve(el);
        if (el.dataset.alertId) onScreen.current.delete(el.dataset.alertId);
      };
    },
    [observer],
  );

  return { onEvent, onSnapshot, tileRef };
}
