import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { type Override, type Rotation, segmentAt, shiftAt, shiftsIn, timeline } from './rotation.js';

const d = (iso: string) => new Date(iso);
const iso = (x: Date) => x.toISOString();
const local = (x: Date, zone: string) => DateTime.fromJSDate(x, { zone }).toFormat("yyyy-MM-dd'T'HH:mm ZZZZ");
const rot = (over: Partial<Rotation> = {}): Rotation => ({ participants: ['a', 'b', 'c'], startsAt: d('2026-01-05T07:00:00Z'), shiftHours: 24, timezone: 'UTC', ...over });
let seq = 0;
const ov = (userId: string, from: string, to: string, createdAt = `2026-01-01T00:00:${String(seq++).padStart(2, '0')}Z`): Override => ({ id: `o${seq}`, userId, startsAt: d(from), endsAt: d(to), createdAt: d(createdAt) });

describe('shiftAt', () => {
  it('nobody before startsAt; then the participants in turn, round and round', () => {
    const r = rot();
    expect(shiftAt(r, d('2026-01-05T06:59:59Z'))).toBeNull();
    expect(shiftAt(r, d('2026-01-05T07:00:00Z'))).toMatchObject({ index: 0, userId: 'a', from: d('2026-01-05T07:00:00Z'), to: d('2026-01-06T07:00:00Z') });
    expect(shiftAt(r, d('2026-01-06T06:59:59.999Z'))?.userId).toBe('a');
    expect(shiftAt(r, d('2026-01-06T07:00:00Z'))?.userId).toBe('b');
    expect(shiftAt(r, d('2026-01-07T12:00:00Z'))?.userId).toBe('c');
    expect(shiftAt(r, d('2026-01-08T07:00:00Z'))).toMatchObject({ index: 3, userId: 'a' });
    // A year on, the index is still exact (365 days = 121 full rounds + 2).
    expect(shiftAt(r, d('2027-01-05T07:00:00Z'))).toMatchObject({ index: 365, userId: 'c' });
  });

  it('counts elapsed hours for a shiftHours that is not a multiple of 24', () => {
    const r = rot({ shiftHours: 8, participants: ['a', 'b'] });
    expect(shiftAt(r, d('2026-01-05T14:59:00Z'))).toMatchObject({ index: 0, userId: 'a' });
    expect(shiftAt(r, d('2026-01-05T15:00:00Z'))).toMatchObject({ index: 1, userId: 'b', to: d('2026-01-05T23:00:00Z') });
  });

  it('a user may appear twice in the rotation', () => {
    const r = rot({ participants: ['a', 'a', 'b'] });
    expect(shiftsIn(r, d('2026-01-05T07:00:00Z'), d('2026-01-08T07:00:00Z')).map((s) => s.userId)).toEqual(['a', 'a', 'b']);
  });
});

describe('daylight saving (Europe/Berlin: clocks forward 29 March 2026, back 25 October 2026)', () => {
  const zone = 'Europe/Berlin';
  // 07:00 CET on Friday 27 March = 06:00 UTC.
  const daily = rot({ timezone: zone, startsAt: d('2026-03-27T06:00:00Z') });

  it('24 h shifts hand over at 07:00 local on both nights: the UTC instant moves, the local time does not', () => {
    const spring = shiftsIn(daily, d('2026-03-27T06:00:00Z'), d('2026-03-30T05:00:00Z'));
    expect(spring.map((s) => iso(s.from))).toEqual(['2026-03-27T06:00:00.000Z', '2026-03-28T06:00:00.000Z', '2026-03-29T05:00:00.000Z']);
    expect(spring.map((s) => local(s.from, zone))).toEqual(['2026-03-27T07:00 GMT+1', '2026-03-28T07:00 GMT+1', '2026-03-29T07:00 GMT+2']);
    // The shift over the spring-forward night is 23 hours long.
    expect((spring[1]!.to.getTime() - spring[1]!.from.getTime()) / 3_600_000).toBe(23);

    const autumn = shiftsIn(daily, d('2026-10-24T05:00:00Z'), d('2026-10-26T06:00:00Z'));
    expect(autumn.map((s) => iso(s.from))).toEqual(['2026-10-24T05:00:00.000Z', '2026-10-25T06:00:00.000Z']);
    expect(autumn.map((s) => local(s.from, zone))).toEqual(['2026-10-24T07:00 GMT+2', '2026-10-25T07:00 GMT+1']);
    // The shift over the fall-back night is 25 hours long.
    expect((autumn[0]!.to.getTime() - autumn[0]!.from.getTime()) / 3_600_000).toBe(25);
    // And the rotation did not slip: 212 days after the start, still 07:00 local, participant 212 mod 3.
    expect(shiftAt(daily, d('2026-10-25T06:00:00Z'))).toMatchObject({ index: 212, userId: 'c', from: d('2026-10-25T06:00:00Z') });
    expect(shiftAt(daily, d('2026-10-25T05:59:59Z'))?.index).toBe(211);
  });

  it('the same rotation in America/New_York hands over at 07:00 local too (clocks forward 8 March 2026)', () => {
    const ny = rot({ timezone: 'America/New_York', startsAt: d('2026-03-07T12:00:00Z'), shiftHours: 48 });
    expect(shiftsIn(ny, ny.startsAt, d('2026-03-12T00:00:00Z')).map((s) => iso(s.from))).toEqual(['2026-03-07T12:00:00.000Z', '2026-03-09T11:00:00.000Z', '2026-03-11T11:00:00.000Z']);
  });

  it('12 h shifts count elapsed hours: 07:00/19:00 in winter become 08:00/20:00 local in summer', () => {
    const twelve = rot({ timezone: zone, shiftHours: 12, startsAt: d('2026-03-28T06:00:00Z') });
    const shifts = shiftsIn(twelve, twelve.startsAt, d('2026-03-29T19:00:00Z'));
    expect(shifts.map((s) => iso(s.from))).toEqual(['2026-03-28T06:00:00.000Z', '2026-03-28T18:00:00.000Z', '2026-03-29T06:00:00.000Z', '2026-03-29T18:00:00.000Z']);
    expect(shifts.map((s) => local(s.from, zone))).toEqual(['2026-03-28T07:00 GMT+1', '2026-03-28T19:00 GMT+1', '2026-03-29T08:00 GMT+2', '2026-03-29T20:00 GMT+2']);
    // Every shift is 12 real hours, the night of the change included.
    expect(shifts.every((s) => s.to.getTime() - s.from.getTime() === 12 * 3_600_000)).toBe(true);
  });

  it('a daily handover at a local time the spring-forward night skips (02:30) happens after the gap, at 03:30', () => {
    const r = rot({ timezone: zone, startsAt: d('2026-03-28T01:30:00Z') }); // 02:30 CET
    const [, second, third] = shiftsIn(r, r.startsAt, d('2026-03-31T00:00:00Z'));
    expect(local(second!.from, zone)).toBe('2026-03-29T03:30 GMT+2');
    expect(local(third!.from, zone)).toBe('2026-03-30T02:30 GMT+2');
  });
});

describe('timeline and overrides', () => {
  const r = rot();
  const from = d('2026-01-05T00:00:00Z');
  const to = d('2026-01-07T07:00:00Z');

  it('covers the whole window: a gap (userId null) before startsAt, then one segment per shift', () => {
    expect(timeline(r, [], from, to).map((s) => [s.userId, iso(s.from), iso(s.to), s.override])).toEqual([
      [null, '2026-01-05T00:00:00.000Z', '2026-01-05T07:00:00.000Z', false],
      ['a', '2026-01-05T07:00:00.000Z', '2026-01-06T07:00:00.000Z', false],
      ['b', '2026-01-06T07:00:00.000Z', '2026-01-07T07:00:00.000Z', false],
    ]);
    // A window inside one shift is that shift, clipped.
    expect(timeline(r, [], d('2026-01-05T10:00:00Z'), d('2026-01-05T11:00:00Z'))).toEqual([{ userId: 'a', from: d('2026-01-05T10:00:00Z'), to: d('2026-01-05T11:00:00Z'), override: false, overrideId: null }]);
    expect(timeline(r, [], to, to)).toEqual([]);
  });

  it('an override replaces the rotation for its window, across a handover as one segment', () => {
    const o = ov('z', '2026-01-06T01:00:00Z', '2026-01-06T10:00:00Z');
    expect(timeline(r, [o], d('2026-01-05T07:00:00Z'), to).map((s) => [s.userId, iso(s.from), iso(s.to), s.overrideId])).toEqual([
      ['a', '2026-01-05T07:00:00.000Z', '2026-01-06T01:00:00.000Z', null],
      ['z', '2026-01-06T01:00:00.000Z', '2026-01-06T10:00:00.000Z', o.id],
      ['b', '2026-01-06T10:00:00.000Z', '2026-01-07T07:00:00.000Z', null],
    ]);
  });

  it('where overrides overlap the latest created wins, whichever starts first', () => {
    const older = ov('x', '2026-01-05T08:00:00Z', '2026-01-05T20:00:00Z', '2026-01-01T10:00:00Z');
    const newer = ov('y', '2026-01-05T12:00:00Z', '2026-01-05T14:00:00Z', '2026-01-02T10:00:00Z');
    const segs = timeline(r, [newer, older], d('2026-01-05T07:00:00Z'), d('2026-01-06T07:00:00Z'));
    expect(segs.map((s) => [s.userId, iso(s.from).slice(11, 16), iso(s.to).slice(11, 16)])).toEqual([
      ['a', '07:00', '08:00'],
      ['x', '08:00', '12:00'],
      ['y', '12:00', '14:00'],
      ['x', '14:00', '20:00'],
      ['a', '20:00', '07:00'],
    ]);
    // The older one created later would hide the newer one entirely.
    const hidden = timeline(r, [newer, { ...older, createdAt: d('2026-01-03T00:00:00Z') }], d('2026-01-05T07:00:00Z'), d('2026-01-06T07:00:00Z'));
    expect(hidden.map((s) => s.userId)).toEqual(['a', 'x', 'a']);
  });

  it('an override fills the gap before the rotation starts', () => {
    const o = ov('z', '2026-01-05T05:00:00Z', '2026-01-05T09:00:00Z');
    expect(timeline(r, [o], from, d('2026-01-05T12:00:00Z')).map((s) => s.userId)).toEqual([null, 'z', 'a']);
  });

  it('segmentAt: who is on call and until the next handover or override boundary', () => {
    expect(segmentAt(r, [], d('2026-01-05T06:00:00Z'))).toMatchObject({ userId: null, to: d('2026-01-05T07:00:00Z') });
    expect(segmentAt(r, [], d('2026-01-05T12:00:00Z'))).toMatchObject({ userId: 'a', from: d('2026-01-05T12:00:00Z'), to: d('2026-01-06T07:00:00Z') });
    const soon = ov('z', '2026-01-05T15:00:00Z', '2026-01-05T16:00:00Z');
    expect(segmentAt(r, [soon], d('2026-01-05T12:00:00Z'))).toMatchObject({ userId: 'a', to: d('2026-01-05T15:00:00Z') });
    // A long override: until its end, however many handovers lie under it.
    const long = ov('z', '2026-01-05T10:00:00Z', '2026-01-20T10:00:00Z');
    expect(segmentAt(r, [long], d('2026-01-06T12:00:00Z'))).toMatchObject({ userId: 'z', override: true, to: d('2026-01-20T10:00:00Z') });
  });
});
