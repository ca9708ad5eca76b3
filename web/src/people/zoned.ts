import { DateTime } from 'luxon';

/*
 * Schedules live in the hospital's (or the schedule's) IANA zone, not the browser's: a doctor at home
 * abroad still reads the ward's handover times. luxon does the zone and daylight-saving arithmetic
 * (a local day may be 23 or 25 hours long); nothing here adds hours by hand.
 */

/** The local days [start, end) from today, in the zone: each day's start and end instants. */
export function localDays(zone: string, count: number, now = Date.now()): { start: DateTime; end: DateTime }[] {
  const first = DateTime.fromMillis(now, { zone }).startOf('day');
  return Array.from({ length: count }, (_, i) => ({ start: first.plus({ days: i }), end: first.plus({ days: i + 1 }) }));
}

/** A datetime-local input's value ("2026-12-04T07:00") for an instant, as wall-clock time in the zone. */
export function toLocalInput(iso: string | number, zone: string): string {
  const d = typeof iso === 'number' ? DateTime.fromMillis(iso, { zone }) : DateTime.fromISO(iso, { zone });
  return d.toFormat("yyyy-LL-dd'T'HH:mm");
}

/** A datetime-local value read as wall-clock time in the zone, as an ISO instant; null if incomplete. */
export function fromLocalInput(value: string, zone: string): string | null {
  const d = DateTime.fromISO(value, { zone });
  return d.isValid ? d.toISO() : null;
}

/** "07:00" in the zone. */
export const hourOf = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat('HH:mm');

/** "Thu 3 Dec, 07:00" in the zone. */
export const momentOf = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat('ccc d LLL, HH:mm');

/** "Thu 3 Dec" for a local day. */
export const dayLabel = (d: DateTime) => d.toFormat('ccc d LLL');

/** An instant rounded to the nearest quarter hour (a dragged window snaps to it). */
export function roundToQuarter(ms: number): number {
  const q = 15 * 60_000;
  return Math.round(ms / q) * q;
}
