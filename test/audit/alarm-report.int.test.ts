import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AlarmFigures, AlarmReport } from '../../server/audit/alarm-report-schemas.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { at, escalate, event, hasAlarmEnums, insertAlert, PERIOD, page, setZone } from './alarm-fixture.js';
import { trpcError } from './helpers.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;
/** Migration 0018 (shelved / suppressed) may or may not be in this tree yet: the fixture adds those rows only when it is. */
let alarmEnums = false;
const plus = (n: number) => (alarmEnums ? n : 0);

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
  alarmEnums = await hasAlarmEnums(env);
  const g = t.hospital.general;
  const r = t.hospital.riverside;
  await setZone(env, g.id);
  const u = (a: Parameters<Tenants['user']>[1]) => t.user('general', a).id;
  const ICU = g.departments.ICU;
  const ER = g.departments.ER;

  // ICU. Day shift (07–15): two criticals in room 301 from the monitors, acknowledged after 30 s and 90 s.
  const a1 = await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-02T08:00', priority: 'critical', room: '301', source: 'hl7:monitors', ackAfter: 30, repeats: 2 });
  await event(env, a1, 'repeated', at('2026-03-02T08:05'));
  await event(env, a1, 'repeated', at('2026-03-02T08:06'));
  await page(env, a1, u('nurse.icu'), 0, '2026-03-02T08:00');
  const a2 = await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-02T08:10', priority: 'critical', room: '301', source: 'hl7:monitors', ackAfter: 90, status: 'resolved' });
  await page(env, a2, u('nurse.icu'), 0, '2026-03-02T08:10');
  await escalate(env, a2, 1, '2026-03-02T08:11');
  await page(env, a2, u('doctor.icu'), 1, '2026-03-02T08:11', 'acknowledged');
  // Evening (15–23): a high never acknowledged, escalated twice; the nurse declined.
  const a3 = await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-02T16:00', priority: 'high', room: '302' });
  await page(env, a3, u('nurse.icu'), 0, '2026-03-02T16:00', 'declined');
  await escalate(env, a3, 1, '2026-03-02T16:03');
  await page(env, a3, u('head'), 1, '2026-03-02T16:03');
  await escalate(env, a3, 2, '2026-03-02T16:08');
  await page(env, a3, u('head'), 2, '2026-03-02T16:08');
  // Night (23–07): a medium first acknowledged after 120 s, reopened and acknowledged again at 1000 s
  // (time to acknowledge is to the first); it repeats at 06:59, still the night shift.
  const a4 = await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-03T02:00', priority: 'medium', room: '303', source: 'hl7:monitors', ackAfter: 1000, firstAck: 120, repeats: 1 });
  await event(env, a4, 'repeated', at('2026-03-03T06:59'));
  await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-03T23:30', priority: 'low', room: null, status: 'cancelled' });

  // ER. Evening: 15:00 sharp belongs to the evening; 180 s is within the high's 180 s first timeout.
  await page(env, await insertAlert(env, { hospitalId: g.id, departmentId: ER, raised: '2026-03-07T15:00', priority: 'high', room: 'E1', source: 'api:nursecall', ackAfter: 180 }), u('nurse.er'), 0, '2026-03-07T15:00', 'acknowledged');
  const b2 = await insertAlert(env, { hospitalId: g.id, departmentId: ER, raised: '2026-03-07T15:30', priority: 'high', room: 'E1', source: 'api:nursecall', ackAfter: 400 });
  await escalate(env, b2, 1, '2026-03-07T15:33');
  await insertAlert(env, { hospitalId: g.id, departmentId: ER, raised: '2026-03-07T22:59', priority: 'critical', room: 'E2', ackAfter: 10 });
  // Day: 07:00 sharp on Sunday; "e1 " is room E1 however it was typed.
  await insertAlert(env, { hospitalId: g.id, departmentId: ER, raised: '2026-03-08T07:00', priority: 'low', room: 'e1 ', source: 'api:nursecall' });

  // Just outside the period (local midnight at both ends), and Riverside's: none of them count.
  await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-01T23:59', priority: 'critical', room: '301', ackAfter: 5 });
  await insertAlert(env, { hospitalId: g.id, departmentId: ICU, raised: '2026-03-09T00:00', priority: 'critical', room: '301', ackAfter: 5 });
  const rv = await insertAlert(env, { hospitalId: r.id, departmentId: r.departments.ICU, raised: '2026-03-02T08:00', priority: 'critical', room: '301', source: 'hl7:monitors', ackAfter: 5 });
  await event(env, rv, 'repeated', at('2026-03-02T08:01'));
  await escalate(env, rv, 1, '2026-03-02T08:02');
  await page(env, rv, t.user('riverside', 'nurse.icu').id, 0, '2026-03-02T08:00');

  if (alarmEnums) {
    // Cardiology, day: a raise kept quiet by a suppression window; the ICU evening alert was shelved once.
    const s1 = await insertAlert(env, { hospitalId: g.id, departmentId: g.departments.CARD, raised: '2026-03-02T09:00', priority: 'medium' });
    await env.deps.db.execute(sql`
      WITH w AS (INSERT INTO suppressions (hospital_id, department_id, starts_at, ends_at, reason)
                 VALUES (${g.id}, ${g.departments.CARD}, ${at('2026-03-02T08:30')}, ${at('2026-03-02T10:00')}, 'Fire drill') RETURNING id)
      UPDATE alerts SET status = 'suppressed', suppression_id = (SELECT id FROM w) WHERE id = ${s1}`);
    await event(env, s1, 'suppressed', at('2026-03-02T09:00'));
    await event(env, a3, 'shelved', at('2026-03-02T16:01'));
  }
});

const report = (input: Partial<Parameters<typeof admin.audit.getAlarmReport.query>[0]> = {}) => admin.audit.getAlarmReport.query({ ...PERIOD, ...input });
const pick = (f: AlarmFigures) => ({
  alerts: f.alerts,
  rooms: f.roomsAlerting,
  perRoom: f.alertsPerAlertingRoom,
  repeats: f.repeats,
  needing: f.needingResponse,
  acked: f.acknowledged,
  within: f.acknowledgedWithinFirstTimeout,
  share: f.shareWithinFirstTimeout,
  median: f.medianAckSeconds,
  p90: f.p90AckSeconds,
  escalations: f.escalationsByLevel,
  pages: f.pages,
});
const cellOf = (r: AlarmReport, dept: string, shift: number) => r.byDepartmentShift.find((c) => c.departmentId === dept && c.shift === shift)!;

describe('audit.getAlarmReport', () => {
  it('counts per department and shift in the hospital’s time zone, with exact medians and percentiles', async () => {
    const r = await report();
    const g = t.hospital.general.departments;
    expect(r.timezone).toBe('Europe/Berlin');
    expect(r.shifts.map((s) => s.label)).toEqual(['07:00–15:00', '15:00–23:00', '23:00–07:00']);
    expect(r.firstTimeoutSeconds).toEqual({ low: 1800, medium: 600, high: 180, critical: 60 });

    expect(pick(cellOf(r, g.ICU, 0))).toEqual({ alerts: 2, rooms: 1, perRoom: 2, repeats: 2, needing: 2, acked: 2, within: 1, share: 0.5, median: 60, p90: 84, escalations: [{ level: 1, count: 1 }], pages: 3 });
    expect(pick(cellOf(r, g.ICU, 1))).toEqual({ alerts: 1, rooms: 1, perRoom: 1, repeats: 0, needing: 1, acked: 0, within: 0, share: 0, median: null, p90: null, escalations: [{ level: 1, count: 1 }, { level: 2, count: 1 }], pages: 3 });
    expect(pick(cellOf(r, g.ICU, 2))).toEqual({ alerts: 2, rooms: 1, perRoom: 1, repeats: 1, needing: 2, acked: 1, within: 1, share: 0.5, median: 120, p90: 120, escalations: [], pages: 0 });
    expect(pick(cellOf(r, g.ER, 0))).toEqual({ alerts: 1, rooms: 1, perRoom: 1, repeats: 0, needing: 1, acked: 0, within: 0, share: 0, median: null, p90: null, escalations: [], pages: 0 });
    expect(pick(cellOf(r, g.ER, 1))).toEqual({ alerts: 3, rooms: 2, perRoom: 1.5, repeats: 0, needing: 3, acked: 3, within: 2, share: 0.667, median: 180, p90: 356, escalations: [{ level: 1, count: 1 }], pages: 1 });
    expect(cellOf(r, g.ER, 2).alerts).toBe(0);

    const dept = (id: string) => pick(r.byDepartment.find((d) => d.departmentId === id)!);
    // A department's all-day figures are computed, not added up: the median of [30, 90, 120] is 90.
    expect(dept(g.ICU)).toEqual({ alerts: 5, rooms: 3, perRoom: 1.33, repeats: 3, needing: 5, acked: 3, within: 2, share: 0.4, median: 90, p90: 114, escalations: [{ level: 1, count: 2 }, { level: 2, count: 1 }], pages: 6 });
    expect(dept(g.ER)).toEqual({ alerts: 4, rooms: 2, perRoom: 2, repeats: 0, needing: 4, acked: 3, within: 2, share: 0.5, median: 180, p90: 356, escalations: [{ level: 1, count: 1 }], pages: 1 });
    expect(r.byDepartment.map((d) => d.departmentName)).toEqual(['Cardiology', 'Emergency', 'Intensive Care']);

    expect(r.byShift.map((s) => s.alerts)).toEqual([3 + plus(1), 4, 2]);
    expect(r.byShift.map((s) => s.medianAckSeconds)).toEqual([60, 180, 120]);
    expect(pick(r.total)).toEqual({
      alerts: 9 + plus(1),
      rooms: 5,
      perRoom: 1.6,
      repeats: 3,
      needing: 9,
      acked: 6,
      within: 4,
      share: 0.444,
      median: 105,
      p90: 290,
      escalations: [{ level: 1, count: 3 }, { level: 2, count: 1 }],
      pages: 7,
    });
    expect(r.total.alertsWithRoom).toBe(8);
    // The same repeats from the alerts' own counts, by the shift of the raise (A4's repeat came in at 06:59, still its night).
    expect([cellOf(r, g.ICU, 0).foldedRaises, cellOf(r, g.ICU, 2).foldedRaises, r.total.foldedRaises]).toEqual([2, 1, 3]);
    expect(r.eventsKeptFrom).toBeNull();
    expect([r.total.suppressedAlerts, r.total.suppressionEvents, r.total.shelvings]).toEqual([plus(1), plus(1), plus(1)]);
    if (alarmEnums) {
      const card = cellOf(r, g.CARD, 0);
      expect([card.alerts, card.suppressedAlerts, card.suppressionEvents, card.needingResponse, card.shareWithinFirstTimeout]).toEqual([1, 1, 1, 0, null]);
      expect(cellOf(r, g.ICU, 1).shelvings).toBe(1);
    }

    expect(r.pagesPerPerson.map((p) => [p.name, p.pages, p.acknowledged, p.declined])).toEqual([
      ['Nia ICU Nurse', 3, 0, 1],
      ['Dr. Harper Head', 2, 0, 0],
      ['Dr. Ivan ICU', 1, 1, 0],
      ['Noah ER Nurse', 1, 1, 0],
    ]);
    const heat = Object.fromEntries(r.busiestHours.map((c) => [`${c.dayOfWeek}@${c.hour}`, c.count]));
    expect(heat).toEqual({ '1@8': 2, '1@16': 1, '2@2': 1, '2@23': 1, '6@15': 2, '6@22': 1, '7@7': 1, ...(alarmEnums ? { '1@9': 1 } : {}) });
    expect(r.noisiestSources).toEqual(
      alarmEnums
        ? [{ source: 'hl7:monitors', alerts: 3, repeats: 3 }, { source: 'console', alerts: 4, repeats: 0 }, { source: 'api:nursecall', alerts: 3, repeats: 0 }]
        : [{ source: 'hl7:monitors', alerts: 3, repeats: 3 }, { source: 'api:nursecall', alerts: 3, repeats: 0 }, { source: 'console', alerts: 3, repeats: 0 }],
    );
    expect(r.noisiestRooms.map((x) => [x.departmentName, x.room, x.alerts, x.repeats])).toEqual([
      ['Intensive Care', '301', 2, 2],
      ['Emergency', 'E1', 3, 0],
      ['Intensive Care', '303', 1, 1],
      ['Emergency', 'E2', 1, 0],
      ['Intensive Care', '302', 1, 0],
    ]);
  });

  it('narrows to one department', async () => {
    const icu = t.hospital.general.departments.ICU;
    const r = await report({ departmentId: icu });
    expect(r.department).toEqual({ id: icu, name: 'Intensive Care' });
    expect(r.byDepartment.map((d) => d.departmentId)).toEqual([icu]);
    expect(r.byDepartmentShift).toHaveLength(3);
    expect(pick(r.total)).toEqual(pick(r.byDepartment[0]!));
    expect(r.total.alerts).toBe(5);
    expect(r.pagesPerPerson.map((p) => [p.name, p.pages])).toEqual([['Nia ICU Nurse', 3], ['Dr. Harper Head', 2], ['Dr. Ivan ICU', 1]]);
    expect(r.noisiestRooms.every((x) => x.departmentId === icu)).toBe(true);
  });

  it('takes its own shift starts, in any order', async () => {
    const r = await report({ shiftStarts: ['20:00', '08:00'] });
    expect(r.shifts.map((s) => s.label)).toEqual(['08:00–20:00', '20:00–08:00']);
    // 08:00, 08:10, 16:00, 15:00, 15:30 by day; 02:00, 23:30, 22:59 and Sunday's 07:00 at night.
    expect(r.byShift.map((s) => s.alerts)).toEqual([5 + plus(1), 4]);
    const one = await report({ shiftStarts: ['07:00'] });
    expect(one.shifts).toEqual([{ index: 0, start: '07:00', end: '07:00', label: '07:00–07:00 (one shift)' }]);
    expect(one.byShift[0]!.alerts).toBe(9 + plus(1));
  });

  it('holds "in time" to the first timeout of the policy in force now', async () => {
    const g = t.hospital.general.id;
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,critical,levelTimeoutsSeconds}', '[100, 200]'::jsonb) WHERE id = ${g}`);
    try {
      const r = await report();
      expect(r.firstTimeoutSeconds.critical).toBe(100);
      expect(cellOf(r, t.hospital.general.departments.ICU, 0).acknowledgedWithinFirstTimeout).toBe(2); // 90 s is now in time
    } finally {
      await env.deps.db.execute(sql`UPDATE hospitals SET settings = settings #- '{escalation,critical}' WHERE id = ${g}`);
    }
  });

  it('says from when alert events are kept once retention has pruned some', async () => {
    const g = t.hospital.general.id;
    await env.deps.db.execute(sql`UPDATE hospitals SET events_pruned_through = 1 WHERE id = ${g}`);
    try {
      // The oldest event still kept is the one raised just before the period (2026-03-01 23:59 Berlin).
      expect((await report()).eventsKeptFrom).toBe('2026-03-01T22:59:00.000Z');
      const { csv } = await admin.audit.getAlarmReportCsv.query({ from: '2026-02-01T00:00:00Z', to: PERIOD.to });
      expect(csv).toContain('Note,"Alert events are kept from 2026-03-01 23:59: repeats, shelvings and suppression events before then are not counted"');
    } finally {
      await env.deps.db.execute(sql`UPDATE hospitals SET events_pruned_through = 0 WHERE id = ${g}`);
    }
  });

  it('shows another hospital only its own alerts', async () => {
    const riverside = clientFor(server, await t.token('riverside', 'admin'));
    const r = await riverside.audit.getAlarmReport.query(PERIOD);
    expect(r.timezone).toBe(env.config.defaultTimezone);
    expect([r.total.alerts, r.total.repeats, r.total.escalations, r.total.pages]).toEqual([1, 1, 1, 1]);
    expect(r.pagesPerPerson.map((p) => p.name)).toEqual(['Nia ICU Nurse']);
  });

  it('answers NOT_FOUND for another hospital’s department', async () => {
    expect((await trpcError(report({ departmentId: t.hospital.riverside.departments.ICU }))).code).toBe('NOT_FOUND');
    expect((await trpcError(report({ departmentId: 'no-such-department' }))).code).toBe('NOT_FOUND');
  });

  it('rejects malformed input with BAD_REQUEST and says which field', async () => {
    const bad = async (input: unknown) => trpcError(admin.audit.getAlarmReport.query(input as never));
    const tooLong = await bad({ from: '2026-01-01T00:00:00Z', to: '2026-04-05T00:00:01Z' });
    expect(tooLong.code).toBe('BAD_REQUEST');
    expect(tooLong.fieldErrors?.to?.[0]).toMatch(/at most 93 days/);
    expect((await bad({ from: PERIOD.to, to: PERIOD.from })).fieldErrors?.to?.[0]).toMatch(/after/);
    expect((await bad({ from: PERIOD.from, to: PERIOD.from })).code).toBe('BAD_REQUEST');
    expect((await bad({ from: 'last week', to: PERIOD.to })).fieldErrors?.from).toBeTruthy();
    expect((await bad({ ...PERIOD, shiftStarts: ['7:00'] })).fieldErrors?.shiftStarts).toBeTruthy();
    expect((await bad({ ...PERIOD, shiftStarts: ['24:00'] })).code).toBe('BAD_REQUEST');
    expect((await bad({ ...PERIOD, shiftStarts: [] })).code).toBe('BAD_REQUEST');
    expect((await bad({ ...PERIOD, shiftStarts: ['07:00', '07:00'] })).fieldErrors?.shiftStarts?.[0]).toMatch(/different/);
    expect((await bad({ ...PERIOD, shiftStarts: Array(7).fill('07:00') })).code).toBe('BAD_REQUEST');
    expect((await bad({ ...PERIOD, departmentId: '' })).code).toBe('BAD_REQUEST');
    expect((await bad({ ...PERIOD, occupancy: true })).code).toBe('BAD_REQUEST');
    expect((await bad({ from: PERIOD.from })).code).toBe('BAD_REQUEST');
    // 93 days exactly is allowed.
    expect((await admin.audit.getAlarmReport.query({ from: '2026-01-01T00:00:00Z', to: '2026-04-04T00:00:00Z' })).period.to).toBe('2026-04-04T00:00:00.000Z');
  });

  it('is for admins only, and audited', async () => {
    for (const who of ['head', 'nurse.icu', 'operator'] as const) {
      const c = clientFor(server, await t.token('general', who));
      expect((await trpcError(c.audit.getAlarmReport.query(PERIOD))).code).toBe('FORBIDDEN');
      expect((await trpcError(c.audit.getAlarmReportCsv.query(PERIOD))).code).toBe('FORBIDDEN');
    }
    await report({ departmentId: t.hospital.general.departments.ER });
    const { rows } = await env.deps.db.execute<{ user_id: string; metadata: Record<string, unknown> }>(sql`
      SELECT user_id, metadata FROM audit_logs WHERE action = 'audit.alarm_report_generated' AND hospital_id = ${t.hospital.general.id} ORDER BY seq DESC LIMIT 1`);
    expect(rows[0]).toEqual({ user_id: t.user('general', 'admin').id, metadata: { from: PERIOD.from, to: PERIOD.to, departmentId: t.hospital.general.departments.ER, format: 'json', alerts: 4 } });
  });
});

describe('audit.getAlarmReportCsv', () => {
  it('is the same report as a spreadsheet', async () => {
    const { filename, csv } = await admin.audit.getAlarmReportCsv.query(PERIOD);
    expect(filename).toBe('clarion-alarm-report-2026-03-02-to-2026-03-09.csv');
    const lines = csv.split('\n');
    expect(lines[1]).toBe('Period (local time),2026-03-02 00:00,2026-03-09 00:00');
    expect(lines).toContain('Intensive Care,07:00–15:00,2,2,1,2,2,2,0,0,0,2,2,1,50,60,84,1,1,0,3');
    expect(lines).toContain('Emergency,All shifts,4,4,2,2,0,0,0,0,0,4,3,2,50,180,356,1,1,0,1');
    expect(lines).toContain(`All departments,All shifts,${9 + plus(1)},8,5,1.6,3,3,${plus(1)},${plus(1)},${plus(1)},9,6,4,44.4,105,290,4,3,1,7`);
    expect(lines).toContain('Nia ICU Nurse,nurse,3,0,1');
    expect(lines).toContain(`Monday,0,0,0,0,0,0,0,0,2,${plus(1)},0,0,0,0,0,0,1,0,0,0,0,0,0,0`);
    expect(lines).toContain('Intensive Care,301,2,2');
    const { rows } = await env.deps.db.execute<{ metadata: { format: string } }>(sql`
      SELECT metadata FROM audit_logs WHERE action = 'audit.alarm_report_generated' AND hospital_id = ${t.hospital.general.id} ORDER BY seq DESC LIMIT 1`);
    expect(rows[0]?.metadata.format).toBe('csv');
  });

  it('escapes a formula a device put in its name', async () => {
    const g = t.hospital.general;
    await insertAlert(env, { hospitalId: g.id, departmentId: g.departments.CARD, raised: '2026-02-10T10:00', priority: 'low', source: '=HYPERLINK("http://x")' });
    const { csv } = await admin.audit.getAlarmReportCsv.query({ from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' });
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")",1,0`);
    expect(csv).not.toMatch(/^=|,=/m);
  });

  it('rejects malformed input like the report', async () => {
    expect((await trpcError(admin.audit.getAlarmReportCsv.query({ from: PERIOD.from, to: '2027-01-01T00:00:00Z' }))).code).toBe('BAD_REQUEST');
    expect((await trpcError(admin.audit.getAlarmReportCsv.query({ ...PERIOD, departmentId: t.hospital.riverside.departments.ER }))).code).toBe('NOT_FOUND');
  });
});
