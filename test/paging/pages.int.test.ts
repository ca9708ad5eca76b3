import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pageLevel } from '../../server/paging/pager.js';
import { pageMissedLevels } from '../../server/paging/repair.js';
import type { EscalationTarget } from '../../server/hospitals/settings.js';
import { eventually } from '../realtime/helpers.js';
import { clientFor, collectEvents } from '../support/server.js';
import { type Fixture, setup, trpcError } from '../users/helpers.js';

let f: Fixture;
let c: Record<'operator' | 'nurseIcu' | 'doctorIcu' | 'nurseEr' | 'doctorEr' | 'head', ReturnType<typeof clientFor>>;
const id = (account: Parameters<Fixture['t']['user']>[1]) => f.t.user('general', account).id;
const icu = () => f.t.hospital.general.departments.ICU;

beforeAll(async () => {
  f = await setup();
  const tok = (a: Parameters<Fixture['t']['token']>[1]) => f.t.token('general', a).then((t) => clientFor(f.server, t));
  c = {
    operator: await tok('operator'),
    nurseIcu: await tok('nurse.icu'),
    doctorIcu: await tok('doctor.icu'),
    nurseEr: await tok('nurse.er'),
    doctorEr: await tok('doctor.er'),
    head: await tok('head'),
  };
});

/** The high-priority chain, through the API (so its validation is exercised too); null: no chain. */
async function chain(targets: EscalationTarget[][] | null, levels = [300, 300, 300]) {
  await f.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets, levelTimeoutsSeconds: levels } } });
}

async function assignIcu(entries: { userId: string; rooms: string[]; charge?: boolean }[]) {
  await f.admin.assignments.set.mutate({ departmentId: icu(), entries, until: new Date(Date.now() + 8 * 3600_000).toISOString() });
}

const raise = (room: string | undefined, departmentId = icu()) =>
  c.operator.alerts.create.mutate({ title: `Patient alarm ${Math.random().toString(36).slice(2, 8)}`, priority: 'high', alertType: 'medical', departmentId, ...(room ? { roomNumber: room } : {}) });

async function eventsOf(alertId: string): Promise<{ id: number; type: string; detail: { level?: number; userIds?: string[] } | null; level: number }[]> {
  const { rows } = await f.env.deps.db.execute<{ id: string; type: string; detail: { level?: number; userIds?: string[] } | null; escalation_level: number }>(
    sql`SELECT id::text, type::text, detail, escalation_level FROM alert_events WHERE alert_id = ${alertId} ORDER BY id`,
  );
  return rows.map((r) => ({ id: Number(r.id), type: r.type, detail: r.detail, level: r.escalation_level }));
}

const pagedTypes = async (alertId: string) => (await eventsOf(alertId)).map((e) => e.type).filter((t) => t === 'paged' || t === 'coverage_gap');

beforeEach(async () => {
  await chain(null);
  await assignIcu([
    { userId: id('nurse.icu'), rooms: ['310', '311', '312'], charge: true },
    { userId: id('doctor.icu'), rooms: ['307'] },
  ]);
});

describe('with no targets configured', () => {
  it('pages nobody: the screens are all there is, as before', async () => {
    const a = await raise('312');
    await new Promise((r) => setTimeout(r, 300));
    expect(await pagedTypes(a.id)).toEqual([]);
    expect((await f.admin.alerts.getById.query({ alertId: a.id })).pages).toEqual([]);
  });
});

describe('pages at raise and escalation', () => {
  it('pages the nurse assigned to the room and the charge nurse, once each, with why', async () => {
    await chain([[{ kind: 'assigned' }, { kind: 'charge' }]]);
    const a = await raise('307');
    await eventually(async () => (await pagedTypes(a.id)).length > 0, 3_000, 'paged event');
    const events = await eventsOf(a.id);
    const paged = events.find((e) => e.type === 'paged');
    expect(paged?.detail).toMatchObject({ level: 0, userIds: [id('doctor.icu'), id('nurse.icu')] });
    const { pages } = await f.admin.alerts.getById.query({ alertId: a.id });
    expect(pages.map((p) => [p.userName, p.level, p.target, p.reason])).toEqual([
      ['Dr. Ivan ICU', 0, 'assigned', 'assigned, room 307'],
      ['Nia ICU Nurse', 0, 'charge', 'charge nurse'],
    ]);
    expect(pages.every((p) => p.pagedAt && p.response === null)).toBe(true);
    const mine = await c.doctorIcu.alerts.myPages.query();
    expect(mine.items.map((i) => [i.alert.id, i.page.reason])).toContainEqual([a.id, 'assigned, room 307']);
    // Audited as a system action.
    const { rows } = await f.env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'alert.paged' AND resource_id = ${a.id}`);
    expect(rows[0]?.n).toBe(1);
  });

  it('a level that finds nobody emits coverage_gap and escalates at once to the next level, which pages', async () => {
    await chain([[{ kind: 'assigned' }], [{ kind: 'role', role: 'head_doctor' }]]);
    const a = await raise(undefined); // no room: nobody is assigned to it
    await eventually(async () => (await pagedTypes(a.id)).join() === 'coverage_gap,paged', 4_000, 'gap then page');
    const events = await eventsOf(a.id);
    const gap = events.find((e) => e.type === 'coverage_gap');
    const esc = events.find((e) => e.type === 'escalated');
    expect(gap?.detail).toMatchObject({ level: 0, userIds: [] });
    expect(esc && gap && esc.id > gap.id).toBe(true);
    const { alert, escalations, pages } = await f.admin.alerts.getById.query({ alertId: a.id });
    expect(alert.escalationLevel).toBe(1);
    expect(escalations.map((e) => e.reason)).toEqual(['coverage_gap']);
    expect(pages.map((p) => [p.userId, p.level, p.reason])).toEqual([[id('head'), 1, 'role: head doctor']]);
  });

  it('a paged user outside the department sees, receives live and acknowledges the alert; an unpaged one gets NOT_FOUND', async () => {
    await chain([[{ kind: 'user', userId: id('doctor.er') }]]);
    const live = collectEvents(c.doctorEr);
    await live.started;
    const a = await raise('312');
    await live.until((evs) => evs.some((e) => e.alert.id === a.id && e.type === 'paged'), 5_000);
    expect((await c.doctorEr.alerts.getById.query({ alertId: a.id })).alert.id).toBe(a.id);
    expect((await c.doctorEr.alerts.getActive.query()).alerts.map((x) => x.id)).toContain(a.id);
    expect((await trpcError(c.nurseEr.alerts.getById.query({ alertId: a.id }))).code).toBe('NOT_FOUND');
    await c.doctorEr.alerts.acknowledge.mutate({ alertId: a.id });
    await live.until((evs) => evs.some((e) => e.alert.id === a.id && e.type === 'acknowledged'), 5_000);
    await eventually(async () => (await f.admin.alerts.getById.query({ alertId: a.id })).pages[0]?.response === 'acknowledged', 3_000, 'page response');
    live.stop();
    // Replay from the start carries the paged alert's events too (the one visibility function).
    const replay = collectEvents(c.doctorEr, { lastEventId: '0' });
    await replay.until((evs) => evs.some((e) => e.alert.id === a.id && e.type === 'acknowledged'), 5_000);
    expect(replay.events.every((e) => e.alert.departmentId === f.t.user('general', 'doctor.er').departmentId || e.alert.hospitalId === f.t.hospital.general.id)).toBe(true);
    replay.stop();
  });

  it('a decline by the paged person moves to the next level at once and pages it', async () => {
    await chain([[{ kind: 'assigned' }], [{ kind: 'charge' }]]);
    const a = await raise('307');
    await eventually(async () => (await pagedTypes(a.id)).length === 1, 3_000, 'level 0 paged');
    await c.doctorIcu.alerts.decline.mutate({ alertId: a.id, reason: 'In theatre' });
    await eventually(async () => (await pagedTypes(a.id)).length === 2, 3_000, 'level 1 paged');
    const { pages, alert } = await f.admin.alerts.getById.query({ alertId: a.id });
    expect(alert.escalationLevel).toBe(1);
    await eventually(async () => (await f.admin.alerts.getById.query({ alertId: a.id })).pages[0]?.response === 'declined', 3_000, 'declined page');
    expect(pages.map((p) => [p.userId, p.level])).toEqual([
      [id('doctor.icu'), 0],
      [id('nurse.icu'), 1],
    ]);
  });

  it('deactivated users are never resolved, and a deactivated user’s open page escalates on', async () => {
    const [extra] = (
      await f.env.deps.db.execute<{ id: string }>(
        sql`INSERT INTO users (hospital_id, department_id, email, name, role) VALUES (${f.t.hospital.general.id}, ${icu()}, ${`float.${Date.now()}@general.test`}, 'Fay Float', 'nurse') RETURNING id`,
      )
    ).rows;
    const floatId = (extra as { id: string }).id;
    await assignIcu([{ userId: floatId, rooms: ['312'] }, { userId: id('nurse.icu'), rooms: ['311'], charge: true }]);
    await chain([[{ kind: 'assigned' }], [{ kind: 'charge' }]]);
    const a = await raise('312');
    await eventually(async () => (await pagedTypes(a.id)).length === 1, 3_000, 'float nurse paged');
    await f.admin.users.deactivate.mutate({ id: floatId });
    await eventually(async () => (await pagedTypes(a.id)).length === 2, 3_000, 'next level paged');
    const { alert, escalations } = await f.admin.alerts.getById.query({ alertId: a.id });
    expect(alert.escalationLevel).toBe(1);
    expect(escalations.map((e) => e.reason)).toEqual(['no_response']);
    // A new alert in the same room now finds nobody assigned: the deactivated nurse is out at once.
    const b = await raise('312');
    await eventually(async () => (await pagedTypes(b.id))[0] === 'coverage_gap', 3_000, 'gap for the deactivated nurse');
  });
});

describe('exactly once', () => {
  it('racing attempts at one level page it once; an acknowledgement is never followed by a page', async () => {
    await chain([[{ kind: 'charge' }]]);
    // Raised with paging unplugged, so the only attempts are the racing ones below.
    const quiet = { ...f.env.deps, pager: undefined };
    const { createAlert } = await import('../../server/alerts/service.js');
    const operator = { id: id('operator'), role: 'operator' as const, hospitalId: f.t.hospital.general.id, departmentId: null };
    const audit = { userId: operator.id, hospitalId: operator.hospitalId, ip: null, userAgent: 'test', sessionId: null };
    const nurse = { id: id('nurse.icu'), role: 'nurse' as const, hospitalId: f.t.hospital.general.id, departmentId: icu() };
    const { acknowledgeAlert } = await import('../../server/alerts/service.js');
    for (let i = 0; i < 20; i++) {
      const a = await createAlert(quiet, operator, audit, { title: `Race ${i}`, priority: 'high', alertType: 'medical', departmentId: icu(), roomNumber: '311' });
      const outcomes = await Promise.all([
        pageLevel(quiet, a.id, 0),
        pageLevel(quiet, a.id, 0),
        i % 2 ? acknowledgeAlert(quiet, nurse, { ...audit, userId: nurse.id }, a.id).then(() => 'ack') : pageLevel(quiet, a.id, 0),
        pageMissedLevels(quiet, 0).then(() => 'sweep'),
      ]);
      const events = await eventsOf(a.id);
      const pagedEvents = events.filter((e) => e.type === 'paged');
      expect(pagedEvents.length).toBeLessThanOrEqual(1);
      const ack = events.find((e) => e.type === 'acknowledged');
      if (ack && pagedEvents[0]) expect(pagedEvents[0].id).toBeLessThan(ack.id);
      if (!ack) expect(pagedEvents.length).toBe(1);
      const { rows } = await f.env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_pages WHERE alert_id = ${a.id}`);
      expect(rows[0]?.n).toBe(pagedEvents.length);
      expect(outcomes.filter((o) => o === 'paged').length).toBeLessThanOrEqual(1);
    }
  });

  it('the sweeper pages a level the server never got to, once', async () => {
    await chain([[{ kind: 'charge' }]]);
    const quiet = { ...f.env.deps, pager: undefined };
    const { createAlert } = await import('../../server/alerts/service.js');
    const operator = { id: id('operator'), role: 'operator' as const, hospitalId: f.t.hospital.general.id, departmentId: null };
    const a = await createAlert(quiet, operator, { userId: operator.id, hospitalId: operator.hospitalId, ip: null, userAgent: 'test', sessionId: null }, {
      title: 'Missed page',
      priority: 'high',
      alertType: 'medical',
      departmentId: icu(),
    });
    expect(await pagedTypes(a.id)).toEqual([]);
    expect(await pageMissedLevels(quiet, 0)).toBeGreaterThanOrEqual(1);
    expect(await pageMissedLevels(quiet, 0)).toBe(0);
    expect(await pagedTypes(a.id)).toEqual(['paged']);
  });
});

describe('tenant scoping and bad input', () => {
  it('refuses targets naming another hospital’s user or schedule, with field errors, writing nothing', async () => {
    const before = await f.admin.hospitals.getCurrent.query();
    const other = f.t.user('riverside', 'doctor.er').id;
    const err = await trpcError(f.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'user', userId: other }]] } } }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(Object.keys(err.fieldErrors ?? {})).toEqual(['escalation.high.targets.0.0']);
    const bad = await trpcError(f.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'schedule', scheduleId: 'nope' }]] } } }));
    expect(bad.code).toBe('BAD_REQUEST');
    const shape = await trpcError(f.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'pager' }]] } } } as never));
    expect(shape.code).toBe('BAD_REQUEST');
    expect(await f.admin.hospitals.getCurrent.query()).toEqual(before);
    // The database's half: the trigger refuses the same reference written by hand.
    await expect(
      f.env.deps.db.execute(
        sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,high,targets}', ${JSON.stringify([[{ kind: 'user', userId: other }]])}::jsonb) WHERE id = ${f.t.hospital.general.id}`,
      ),
    ).rejects.toThrow();
  });

  it('myPages of another hospital’s user never lists this hospital’s pages', async () => {
    await chain([[{ kind: 'charge' }]]);
    const a = await raise('311');
    await eventually(async () => (await pagedTypes(a.id)).length === 1, 3_000, 'paged');
    expect((await f.riversideAdmin.alerts.myPages.query()).items).toEqual([]);
    expect((await trpcError(f.riversideAdmin.alerts.getById.query({ alertId: a.id }))).code).toBe('NOT_FOUND');
  });
});
