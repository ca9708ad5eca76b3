import { useEffect, useState } from 'react';
import { wsClient } from './api.js';

export const STALE_AFTER_MS = 3_000;

export interface ConnectionInfo {
  /** 'live': socket open; 'connecting': down for less than STALE_AFTER_MS; 'lost': down longer. */
  status: 'live' | 'connecting' | 'lost';
  /** When the link was last known good: the time the shown data is current to. */
  asOf: Date | null;
}

/** The WebSocket's state, from wsClient.connectionState; "lost" only after a few seconds down. */
export function useConnection(): ConnectionInfo {
  const [info, setInfo] = useState<ConnectionInfo>({ status: 'connecting', asOf: null });
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastGood: Date | null = null;
    let up = false;
    const sub = wsClient.connectionState.subscribe({
      next: (s) => {
        if (s.state === 'pending') {
          up = true;
          clearTimeout(timer);
          timer = undefined;
          lastGood = new Date();
          setInfo({ status: 'live', asOf: lastGood });
          return;
        }
        if (up) lastGood = new Date();
        up = false;
        setInfo((prev) => (prev.status === 'lost' ? prev : { status: 'connecting', asOf: lastGood }));
        if (!timer) timer = setTimeout(() => setInfo({ status: 'lost', asOf: lastGood }), STALE_AFTER_MS);
      },
    });
    return () => {
      clearTimeout(timer);
      sub.unsubscribe();
    };
  }, []);
  return info;
}
