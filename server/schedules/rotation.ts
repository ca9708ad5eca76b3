import { DateTime } from 'luxon';

/**
 * On-call rotations as pure functions: who is on call at an instant, the shifts in a window, and
 * overrides laid over them. All date maths goes through luxon in the schedule's IANA zone.
 *
 * - shiftHours a multiple of 24 counts LOCAL days: a 07:00 handover stays at 07:00 local across
 *   daylight-saving changes (that shift is 23 or 25 hours long). A handover whose local time does
 *   not exist that day (02:30 on the spring-forward night) moves forward past the gap, as luxon does.
 * - Any other shiftHours counts elapsed hours: a 12 h rotation handing over at 07:00/19:00 in winter
 *   hands over at 08:00/20:00 local after the clocks go forward (nobody works a 11 h or 13 h shift).
 * - Before startsAt nobody is on call: a gap.
 * - Overrides: the latest created wins where they overlap; outside every override the rotation applies.
 * - A window with nobody on call is a segment with userId null (never left out), so a timeline always
 *   covers its whole window without holes.
 */

export interface Rotation {
  participants: string[];
  startsAt: Date;
  shiftHours: number;
  timezone: string;
}

export interface Override {
  id: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  createdAt: Date;
}

export interface Shift {
  /** Index of the shift since startsAt (participant = participants[index mod n]). */
  index: number;
  userId: string;
  from: Date;
  to: Date;
}

export interface Segment {
  /** null: nobody is on call (before the rotation starts, or a rotation without participants). */
  userId: string | null;
  from: Date;
  to: Date;
  override: boolean;
  overrideId: string | null;
}

const dayMode = (r: Rotation) => r.shiftHours % 24 === 0;

/** The start of shift `index` (0 = startsAt). */
export function shiftStart(r: Rotation, index: number): Date {
  const start = DateTime.fromJSDate(r.startsAt, { zone: r.timezone });
  const next = dayMode(r) ? start.plus({ days: index * (r.shiftHours / 24) }) : start.plus({ hours: index * r.shiftHours });
  return next.toJSDate();
}

/** The index of the shift running at `at`, or -1 before startsAt. */
export function shiftIndexAt(r: Rotation, at: Date): number {
  if (at < r.startsAt) return -1;
  const start = DateTime.fromJSDate(r.startsAt, { zone: r.timezone });
  const t = DateTime.fromJSDate(at, { zone: r.timezone });
  // A first guess from the calendar (or elapsed) difference, then corrected by the real handovers.
  let k = dayMode(r) ? Math.floor(t.diff(start, 'days').days / (r.shiftHours / 24)) : Math.floor(t.diff(start, 'hours').hours / r.shiftHours);
  k = Math.max(0, k);
  while (k > 0 && shiftStart(r, k) > at) k--;
  while (shiftStart(r, k + 1) <= at) k++;
  return k;
}

/** The shift at `at` (null before startsAt or without participants). */
export function shiftAt(r: Rotation, at: Date): Shift | null {
  const index = shiftIndexAt(r, at);
  if (index < 0 || r.participants.length === 0) return null;
  return { index, userId: r.participants[index % r.participants.length] as string, from: shiftStart(r, index), to: shiftStart(r, index + 1) };
}

/** Every shift overlapping [from, to), unclipped, in order. */
export function shiftsIn(r: Rotation, from: Date, to: Date): Shift[] {
  if (r.participants.length === 0 || to <= r.startsAt || to <= from) return [];
  const shifts: Shift[] = [];
  let index = Math.max(0, shiftIndexAt(r, from));
  let start = shiftStart(r, index);
  while (start < to) {
    const end = shiftStart(r, index + 1);
    shifts.push({ index, userId: r.participants[index % r.participants.length] as string, from: start, to: end });
    index++;
    start = end;
  }
  return shifts;
}

/** The override in force over a piece that lies wholly inside or outside each override: latest created wins. */
function winner(overrides: Override[], from: Date): Override | null {
  let best: Override | null = null;
  for (const o of overrides) {
    if (o.startsAt > from || o.endsAt <= from) continue;
    if (!best || o.createdAt > best.createdAt || (o.createdAt.getTime() === best.createdAt.getTime() && o.id > best.id)) best = o;
  }
  return best;
}

/**
 * Who is on call over [from, to): segments covering the whole window, in order. A segment ends at
 * every handover (even to the same person) and at every change of override; an override running
 * across a handover stays one segment (the person on call does not change).
 */
export function timeline(r: Rotation, overrides: Override[], from: Date, to: Date): Segment[] {
  if (to <= from) return [];
  const shifts = shiftsIn(r, from, to);
  const cuts = new Set<number>([from.getTime(), to.getTime()]);
  for (const s of shifts) cuts.add(s.from.getTime());
  if (r.startsAt > from && r.startsAt < to) cuts.add(r.startsAt.getTime());
  for (const o of overrides) {
    cuts.add(o.startsAt.getTime());
    cuts.add(o.endsAt.getTime());
  }
  const points = [...cuts].filter((c) => c >= from.getTime() && c <= to.getTime()).sort((a, b) => a - b);
  const segments: (Segment & { shift: number })[] = [];
  let s = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = new Date(points[i] as number);
    const b = new Date(points[i + 1] as number);
    while (s < shifts.length && (shifts[s] as Shift).to <= a) s++;
    const shift = s < shifts.length && (shifts[s] as Shift).from <= a ? (shifts[s] as Shift) : null;
    const o = winner(overrides, a);
    const piece = o
      ? { userId: o.userId, from: a, to: b, override: true, overrideId: o.id, shift: -1 }
      : { userId: shift?.userId ?? null, from: a, to: b, override: false, overrideId: null, shift: shift ? shift.index : -2 };
    const last = segments[segments.length - 1];
    // Merge pieces of one override, one shift, or one gap.
    if (last && last.userId === piece.userId && last.overrideId === piece.overrideId && last.shift === piece.shift) last.to = b;
    else segments.push(piece);
  }
  return segments.map(({ shift: _shift, ...seg }) => seg);
}

/**
 * The segment running at `at`: who is on call and until when (the next handover or override
 * boundary). The window reaches the next handover and the end of every override covering `at`, so
 * the first segment ends on a real boundary, never on the window's edge.
 */
export function segmentAt(r: Rotation, overrides: Override[], at: Date): Segment {
  const shift = shiftAt(r, at);
  let horizon = shift ? shift.to : at < r.startsAt ? r.startsAt : shiftStart(r, shiftIndexAt(r, at) + 1);
  for (const o of overrides) if (o.startsAt <= at && o.endsAt > at && o.endsAt > horizon) horizon = o.endsAt;
  const [first] = timeline(r, overrides, at, horizon);
  return first as Segment;
}
