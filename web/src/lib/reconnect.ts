/**
 * How long a screen waits before reconnecting its WebSocket. A server restart disconnects every
 * board on it at the same instant; reconnecting all of them at once costs Postgres three queries per
 * board in the same second (session, stream start, replay — docs/performance.md, "What breaks first").
 * The first retry is spread over a second; later ones back off to at most 3 s (a ward screen must come
 * back quickly, not after wsLink's default 30 s), with half of each delay random. Nothing is lost while
 * waiting: the subscription resumes from its last event id.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  if (attempt === 0) return Math.floor(random() * 1_000);
  const cap = Math.min(500 * 2 ** attempt, 3_000);
  return Math.round(cap / 2 + (random() * cap) / 2);
}
