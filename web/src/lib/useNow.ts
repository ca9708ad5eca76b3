import { useEffect, useState } from 'react';

/** The current time, re-rendering every `ms` (one timer per screen, not per tile). */
export function useNow(ms = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
