import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCallAt, scheduleExists } from '../../server/schedules/service.js';
import { clientFor } from '../support/server.js';
import { auditOf, type Fixture, freshUser, setup, trpcError } from '../users/helpers.js';

let f: Fixture;
let head: ReturnType<typeof clientFor>;
let doctor: ReturnType<typeof clientFor>;
let operator: ReturnType<typeof clientFor>;
const H = 3_600_000;
// Whole hours from now, so overrides are in the future and shifts line up with the test's arithmetic.
const base = new Date(Math.floor(Date.now() / H) * H - 2 * H);
const at = (hours: number) => new Date(base.getTime() + hours * H).toISOString();

const scheduleCount = async () => {
  const { rows } = await f.env.deps.db.execute<{ s: number; p: number; o: number }>(sql`SELECT (SELECT count(*)::int FROM schedules) s, (SELECT count(*)::int FROM schedule_participants) p, (SELECT count(*)::int FROM schedule_overrides) o`);
  return rows[0];
};

beforeAll(async () => {
  f = await setup();
  head = clientFor(f.server, await f.t.token('general', 'head'));
  doctor = clientFor(f.server, await f.t.token('general', 'doctor.icu'));
  operator = clientFor(f.server, await f.t.token('general', 'operator'));
});

const ids = () => ({ doc: f.t.user('general', 'doctor.icu').id, er: f.t.user('general', 'doctor.er').id, nurse: f.t.user('general', 'nurse.icu').id });

describe('schedules.create, list, onCall, timeline', () => {
  it('creates a rotation, audits it, and answers who is on call now and until when', async () => {
    const { doc, er } = ids();
    const { id } = await f.admin.schedules.create.mutate({ name: 'ICU doctors', timezone: 'Europe/Berlin', rotation: { participants: [doc, er], startsAt: at(0), shiftHours: 8 } });
    const [row] = await auditOf(f, 'schedule.created', id);
    expect(row).toMatchObject({ outcome: 'success', user_id: f.t.user('general', 'admin').id, resource: 'schedule' });

    // base is 2 h ago: shift 0 (doc) runs until base + 8 h.
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id })).toEqual({ userIds: [doc], until: at(8) });
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id, at: at(9) })).toEqual({ userIds: [er], until: at(16) });
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id, at: at(-1) })).toEqual({ userIds: [], until: at(0) });

    const list = await f.nurse.schedules.list.query();
    const s = list.find((x) => x.id === id);
    expect(s).toMatchObject({ name: 'ICU doctors', timezone: 'Europe/Berlin', effectiveTimezone: 'Europe/Berlin', isActive: true, onCall: { userIds: [doc], names: ['Dr. Ivan ICU'], until: at(8) } });
    expect(s?.rotation).toEqual({ participants: [{ userId: doc, name: 'Dr. Ivan ICU', isActive: true }, { userId: er, name: 'Dr. Emma ER', isActive: true }], startsAt: at(0), shiftHours: 8 });

    const tl = await f.nurse.schedules.timeline.query({ scheduleId: id, from: at(-2), to: at(16) });
    expect(tl.map((x) => [x.userId, x.from, x.to, x.override])).toEqual([
      [null, at(-2), at(0), false],
      [doc, at(0), at(8), false],
      [er, at(8), at(16), false],
    ]);
    expect(tl[1]?.userName).toBe('Dr. Ivan ICU');

    // The pager's functions.
    expect(await onCallAt(f.env.deps.db, f.t.hospital.general.id, id, new Date(at(9)), 'UTC')).toEqual({ scheduleName: 'ICU doctors', userIds: [er], until: new Date(at(16)) });
    expect(await onCallAt(f.env.deps.db, f.t.hospital.riverside.id, id, new Date(), 'UTC')).toBeNull();
    expect(await scheduleExists(f.env.deps.db, f.t.hospital.general.id, id)).toBe(true);
    expect(await scheduleExists(f.env.deps.db, f.t.hospital.riverside.id, id)).toBe(false);
  });

  it('refuses bad input with field errors and writes nothing', async () => {
    const inactive = await freshUser(f, { role: 'doctor' });
    await f.env.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${inactive.id}`);
    const before = await scheduleCount();
    const { doc } = ids();
    const rotation = { participants: [doc], startsAt: at(0), shiftHours: 24 };
    const cases = [
      { name: 'A', rotation: { ...rotation, participants: [] } },
      { name: 'B', rotation: { ...rotation, shiftHours: 0 } },
      { name: 'C', timezone: 'Mars/Olympus', rotation },
      { name: 'D', rotation: { ...rotation, participants: [f.t.user('riverside', 'doctor.icu').id] } },
      { name: 'E', rotation: { ...rotation, participants: [doc, inactive.id] } },
      { name: ' ', rotation },
    ];
    for (const input of cases) {
      const e = await trpcError(f.admin.schedules.create.mutate(input));
      expect(e.code, JSON.stringify(input)).toBe('BAD_REQUEST');
      expect(Object.keys(e.fieldErrors ?? {}).length, JSON.stringify(input)).toBeGreaterThan(0);
    }
    expect(await scheduleCount()).toEqual(before);
    const tl = await trpcError(f.nurse.schedules.timeline.query({ scheduleId: 'x', from: at(10), to: at(10) }));
    expect(tl.code).toBe('BAD_REQUEST');
    expect((await trpcError(f.nurse.schedules.timeline.query({ scheduleId: 'x', from: at(0), to: at(24 * 63) }))).code).toBe('BAD_REQUEST');
  });

  it('refuses operators and doctors creating schedules; another hospital sees NOT_FOUND', async () => {
    const { doc } = ids();
    const input = { name: 'Nope', rotation: { participants: [doc], startsAt: at(0), shiftHours: 24 } };
    expect((await trpcError(doctor.schedules.create.mutate(input))).code).toBe('FORBIDDEN');
    expect((await trpcError(operator.schedules.addOverride.mutate({ scheduleId: 'x', userId: doc, from: at(3), to: at(4) }))).code).toBe('FORBIDDEN');
    const { id } = await head.schedules.create.mutate({ ...input, name: 'Head made' });
    expect((await trpcError(f.riversideAdmin.schedules.onCall.query({ scheduleId: id }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.riversideAdmin.schedules.timeline.query({ scheduleId: id, from: at(0), to: at(5) }))).code).toBe('NOT_FOUND');
    expect((await trpcError(f.riversideAdmin.schedules.update.mutate({ scheduleId: id, isActive: false }))).code).toBe('NOT_FOUND');
    expect((await f.riversideAdmin.schedules.list.query()).some((s) => s.id === id)).toBe(false);
    expect((await trpcError(f.admin.schedules.create.mutate({ ...input, name: 'Head made' }))).code).toBe('CONFLICT');
  });
});

describe('schedules.update', () => {
  it('replaces the rotation, deactivates (nobody on call, the pager gets null), audits the changes', async () => {
    const { doc, er } = ids();
    const { id } = await f.admin.schedules.create.mutate({ name: 'ER nights', rotation: { participants: [doc], startsAt: at(0), shiftHours: 24 } });
    await f.admin.schedules.update.mutate({ scheduleId: id, rotation: { participants: [er, doc], startsAt: at(0), shiftHours: 12 } });
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id })).toEqual({ userIds: [er], until: at(12) });
    await f.admin.schedules.update.mutate({ scheduleId: id, isActive: false });
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id })).toEqual({ userIds: [], until: null });
    expect(await onCallAt(f.env.deps.db, f.t.hospital.general.id, id, new Date(), 'UTC')).toBeNull();
    await f.admin.schedules.update.mutate({ scheduleId: id, isActive: true });
    // Named as an escalation target: deactivating it would leave that level calling nobody.
    await f.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'department' }], [{ kind: 'schedule', scheduleId: id }]] } } });
    const inUse = await trpcError(f.admin.schedules.update.mutate({ scheduleId: id, isActive: false }));
    expect(inUse.code).toBe('CONFLICT');
    expect(inUse.fieldErrors?.isActive?.[0]).toContain('high level 1');
    await f.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'department' }]] } } });
    await f.admin.schedules.update.mutate({ scheduleId: id, isActive: false });
    const rows = await auditOf(f, 'schedule.updated', id);
    expect(rows.map((r) => r.metadata?.changed)).toEqual([['rotation'], ['isActive'], ['isActive'], ['isActive']]);
    const e = await trpcError(f.admin.schedules.update.mutate({ scheduleId: id, rotation: { participants: [f.t.user('riverside', 'admin').id], startsAt: at(0), shiftHours: 12 } }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.fieldErrors).toHaveProperty(['rotation.participants']);
  });
});

describe('overrides', () => {
  it('a doctor covers himself; the latest override wins; removing a running one ends it now', async () => {
    const { doc, er, nurse } = ids();
    const { id } = await f.admin.schedules.create.mutate({ name: 'Cardiology', rotation: { participants: [er], startsAt: at(0), shiftHours: 24 } });
    // Only oneself without schedule.manage, and the refusal is audited.
    const refused = await trpcError(doctor.schedules.addOverride.mutate({ scheduleId: id, userId: er, from: at(4), to: at(6) }));
    expect(refused.code).toBe('FORBIDDEN');
    expect((await auditOf(f, 'schedule.override_added', id)).map((r) => r.outcome)).toEqual(['failure']);

    const mine = await doctor.schedules.addOverride.mutate({ scheduleId: id, userId: doc, from: at(1), to: at(6), reason: 'Swap' });
    const later = await f.admin.schedules.addOverride.mutate({ scheduleId: id, userId: nurse, from: at(4), to: at(5) });
    const tl = await f.nurse.schedules.timeline.query({ scheduleId: id, from: at(0), to: at(8) });
    expect(tl.map((x) => [x.userId, x.from, x.to, x.overrideId])).toEqual([
      [er, at(0), at(1), null],
      [doc, at(1), at(4), mine.id],
      [nurse, at(4), at(5), later.id],
      [doc, at(5), at(6), mine.id],
      [er, at(6), at(8), null],
    ]);
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id })).toEqual({ userIds: [doc], until: at(4) });
    expect((await auditOf(f, 'schedule.override_added', mine.id))[0]).toMatchObject({ outcome: 'success', user_id: f.t.user('general', 'doctor.icu').id });

    // The doctor may not remove the admin's override of the nurse; the admin may; the doctor removes his own (running: ended now).
    expect((await trpcError(doctor.schedules.removeOverride.mutate({ overrideId: later.id }))).code).toBe('FORBIDDEN');
    expect(await f.admin.schedules.removeOverride.mutate({ overrideId: later.id })).toEqual({ id: later.id, removed: 'deleted' });
    expect(await doctor.schedules.removeOverride.mutate({ overrideId: mine.id })).toEqual({ id: mine.id, removed: 'ended' });
    expect((await f.nurse.schedules.onCall.query({ scheduleId: id })).userIds).toEqual([er]);
    expect((await auditOf(f, 'schedule.override_removed')).filter((r) => r.outcome === 'success').map((r) => r.resource_id)).toEqual([later.id, mine.id]);
    expect((await trpcError(f.riversideAdmin.schedules.removeOverride.mutate({ overrideId: mine.id }))).code).toBe('NOT_FOUND');
  });

  it('refuses an override of another hospital’s user or one that has ended, writing nothing', async () => {
    const { er } = ids();
    const { id } = await f.admin.schedules.create.mutate({ name: 'Checks', rotation: { participants: [er], startsAt: at(0), shiftHours: 24 } });
    const before = await scheduleCount();
    const other = await trpcError(f.admin.schedules.addOverride.mutate({ scheduleId: id, userId: f.t.user('riverside', 'admin').id, from: at(3), to: at(4) }));
    expect(other.code).toBe('BAD_REQUEST');
    expect(other.fieldErrors).toHaveProperty('userId');
    expect((await trpcError(f.admin.schedules.addOverride.mutate({ scheduleId: id, userId: er, from: at(-20), to: at(-10) }))).code).toBe('BAD_REQUEST');
    expect((await trpcError(f.admin.schedules.addOverride.mutate({ scheduleId: id, userId: er, from: at(4), to: at(3) }))).fieldErrors).toHaveProperty('to');
    expect((await trpcError(f.riversideAdmin.schedules.addOverride.mutate({ scheduleId: id, userId: f.t.user('riverside', 'admin').id, from: at(3), to: at(4) }))).code).toBe('NOT_FOUND');
    expect(await scheduleCount()).toEqual(before);
  });
});

describe('time zones', () => {
  it('a schedule without its own zone follows settings.timezone, else CLARION_TIMEZONE', async () => {
    const { doc } = ids();
    const { id } = await f.admin.schedules.create.mutate({ name: 'Zone follower', rotation: { participants: [doc], startsAt: '2026-03-27T06:00:00Z', shiftHours: 24 } });
    const zoneOf = async () => (await f.nurse.schedules.list.query()).find((s) => s.id === id)?.effectiveTimezone;
    expect(await zoneOf()).toBe(f.env.deps.config.defaultTimezone);
    await f.admin.hospitals.updateSettings.mutate({ timezone: 'Europe/Berlin' });
    expect(await zoneOf()).toBe('Europe/Berlin');
    // Through the API: 07:00 Berlin handovers across the spring-forward night (05:00 UTC after it).
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id, at: '2026-03-29T04:30:00Z' })).toEqual({ userIds: [doc], until: '2026-03-29T05:00:00.000Z' });
    await f.admin.schedules.update.mutate({ scheduleId: id, timezone: 'UTC' });
    expect(await f.nurse.schedules.onCall.query({ scheduleId: id, at: '2026-03-29T04:30:00Z' })).toEqual({ userIds: [doc], until: '2026-03-29T06:00:00.000Z' });
    await f.admin.schedules.update.mutate({ scheduleId: id, timezone: null });
    expect(await zoneOf()).toBe('Europe/Berlin');
    // The pager's fallback is used when the schedule has no zone of its own.
    expect((await onCallAt(f.env.deps.db, f.t.hospital.general.id, id, new Date('2026-03-29T04:30:00Z'), 'Europe/Berlin'))?.until).toEqual(new Date('2026-03-29T05:00:00Z'));
    expect((await onCallAt(f.env.deps.db, f.t.hospital.general.id, id, new Date('2026-03-29T04:30:00Z'), 'UTC'))?.until).toEqual(new Date('2026-03-29T06:00:00Z'));
    await f.admin.hospitals.updateSettings.mutate({ timezone: null });
  });
});
