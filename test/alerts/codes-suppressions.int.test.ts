import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { codeOf } from '../support/errors.js';
import { clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { waitUntil } from '../support/worker.js';

// Issue 19 items 2 and 3: suppression windows keep matching raises quiet (kept, paging nobody, listed
// apart, never resurrected), and hospital codes are critical, hospital-wide, paged to the code team,
// never folded, shelved or suppressed, with Responding.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
const as: Record<string, Client> = {};
const HOUR = 3_600_000;

const counts = async () =>
  (
    await env.deps.db.execute<{ alerts: number; suppressions: number; responders: number }>(
      sql`SELECT (SELECT count(*)::int FROM alerts) AS alerts, (SELECT count(*)::int FROM suppressions) AS suppressions, (SELECT count(*)::int FROM alert_responders) AS responders`,
    )
  ).rows[0]!;
const pagesOf = async (alertId: string) => (await env.deps.db.execute<{ user_id: string }>(sql`SELECT user_id FROM alert_pages WHERE alert_id = ${alertId}`)).rows.map((r) => r.user_id);
const icu = () => t.hospital.general.departments.ICU;
const raise = (over: Record<string, unknown> = {}) =>
  as.operator!.alerts.create.mutate({ title: 'Bed exit', priority: 'high', alertType: 'monitor', departmentId: icu(), roomNumber: '401', ...over } as never);
const window = (over: Record<string, unknown> = {}) => ({
  departmentId: icu(),
  from: new Date().toISOString(),
  to: new Date(Date.now() + HOUR).toISOString(),
  reason: 'Bed 401 out of service',
  ...over,
});

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  for (const a of ['operator', 'admin', 'head', 'nurse.icu', 'doctor.icu', 'nurse.er'] as const) as[a] = clientFor(server, await t.token('general', a));
  as.otherHead = clientFor(server, await t.token('riverside', 'head'));
  as.otherNurse = clientFor(server, await t.token('riverside', 'nurse.icu'));
  // High alerts page the department, so "pages nobody" can be seen to hold.
  await as.admin!.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'department' }]] } }, dedupWindowSeconds: 120 } as never);
});

describe('suppression windows', () => {
  it('keeps a matching raise: status suppressed, a suppressed event, no deadline, no pages — and pages the others', async () => {
    const s = await as.head!.suppressions.create.mutate(window({ rooms: ['401'], alertTypes: ['monitor'] }));
    expect(s).toMatchObject({ state: 'running', rooms: ['401'], alertTypes: ['monitor'], suppressedCount: 0, departmentName: expect.any(String) });
    const quiet = await raise();
    expect(quiet).toMatchObject({ status: 'suppressed', suppressionId: s.id, nextEscalationAt: null });
    const loud = await raise({ roomNumber: '402' });
    const otherType = await raise({ alertType: 'nurse-call', title: 'Call button' });
    expect(loud.status).toBe('active');
    expect(otherType.status).toBe('active');
    await waitUntil(async () => (await pagesOf(loud.id)).length > 0, 10_000, 'the unsuppressed alert to be paged');
    await new Promise((r) => setTimeout(r, 500));
    expect(await pagesOf(quiet.id)).toEqual([]);
    const { rows } = await env.deps.db.execute<{ type: string }>(sql`SELECT type::text FROM alert_events WHERE alert_id = ${quiet.id}`);
    expect(rows.map((r) => r.type)).toEqual(['suppressed']);
    // A repeat while the window runs folds into the kept one instead of making noise of its own.
    expect(await raise()).toMatchObject({ id: quiet.id, deduplicated: true, status: 'suppressed', repeatCount: 1 });
    // Listed apart: not on the board, but in the history by status, and counted on the window.
    const board = await as['nurse.icu']!.alerts.getActive.query();
    expect(board.alerts.map((a) => a.id)).not.toContain(quiet.id);
    const apart = await as['nurse.icu']!.alerts.list.query({ status: ['suppressed'] } as never);
    expect(apart.alerts.map((a) => a.id)).toContain(quiet.id);
    const listed = await as['nurse.icu']!.suppressions.list.query();
    expect(listed.suppressions.find((x) => x.id === s.id)).toMatchObject({ state: 'running', suppressedCount: 1 });
    // Ending it: the next raise is loud; the kept one stays kept (nothing is resurrected).
    const ended = await as.admin!.suppressions.end.mutate({ id: s.id });
    expect(ended.state).toBe('over');
    const after = await raise({ title: 'Bed exit again' });
    expect(after.status).toBe('active');
    const { rows: kept } = await env.deps.db.execute<{ status: string }>(sql`SELECT status::text FROM alerts WHERE id = ${quiet.id}`);
    expect(kept[0]!.status).toBe('suppressed');
    expect(await codeOf(as.admin!.suppressions.end.mutate({ id: s.id }))).toBe('CONFLICT');
    const { rows: audit } = await env.deps.db.execute<{ action: string }>(sql`SELECT action FROM audit_logs WHERE resource_id = ${s.id} ORDER BY seq`);
    expect(audit.map((a) => a.action)).toEqual(['suppression.created', 'suppression.ended']);
  });

  it("a sender's repeats of one alarm (HL7 alarm id) fold into the kept one while the window runs, whatever the dedup window", async () => {
    await as.admin!.hospitals.updateSettings.mutate({ dedupWindowSeconds: 0 } as never);
    const s = await as.head!.suppressions.create.mutate(window({ rooms: ['777'], reason: 'Bed 777 out of service' }));
    const audit = { userId: null, hospitalId: t.hospital.general.id, ip: null, userAgent: 'test-hl7', sessionId: null };
    const alarm = { hospitalId: t.hospital.general.id, title: 'SpO2 LOW', priority: 'high' as const, alertType: 'monitor', departmentId: icu(), roomNumber: '777', source: 'hl7:ICU gateway', externalId: 'ALM-1' };
    const first = await createAlert(env.deps, null, audit, alarm);
    const again = await createAlert(env.deps, null, audit, alarm);
    expect(first.status).toBe('suppressed');
    expect(again).toMatchObject({ id: first.id, deduplicated: true, status: 'suppressed', repeatCount: 1 });
    await as.head!.suppressions.end.mutate({ id: s.id });
    // After the window the same alarm id is a new, loud alert.
    expect((await createAlert(env.deps, null, audit, alarm)).status).toBe('active');
    await as.admin!.hospitals.updateSettings.mutate({ dedupWindowSeconds: 120 } as never);
  });

  it('never suppresses a code, even in a whole-department window', async () => {
    const s = await as.head!.suppressions.create.mutate(window({ reason: 'Fire drill' }));
    const code = await as['nurse.icu']!.alerts.raiseCode.mutate({ code: 'blue', departmentId: icu(), roomNumber: '401' });
    expect(code).toMatchObject({ status: 'active', code: 'blue', priority: 'critical' });
    expect((await raise({ title: 'Drill noise' })).status).toBe('suppressed');
    await as.head!.suppressions.end.mutate({ id: s.id });
  });

  it('refuses bad windows, the wrong roles and other hospitals, writing nothing; a clinician lists only their department', async () => {
    const before = await counts();
    const bad = [
      window({ to: new Date(Date.now() - 1000).toISOString() }),
      window({ from: new Date(Date.now() + 2 * HOUR).toISOString() }),
      window({ to: new Date(Date.now() + 8 * 24 * HOUR).toISOString() }),
      window({ from: new Date(Date.now() - 24 * HOUR).toISOString() }),
      window({ reason: '  ' }),
      window({ rooms: [] }),
      window({ alertTypes: ['no spaces'] }),
      window({ departmentId: '' }),
      window({ from: 'tomorrow' }),
      { ...window(), extra: 1 },
    ];
    for (const input of bad) expect(await codeOf(as.head!.suppressions.create.mutate(input as never))).toBe('BAD_REQUEST');
    expect(await codeOf(as['nurse.icu']!.suppressions.create.mutate(window()))).toBe('FORBIDDEN');
    expect(await codeOf(as.head!.suppressions.create.mutate(window({ departmentId: t.hospital.riverside.departments.ICU })))).toBe('NOT_FOUND');
    expect(await counts()).toEqual(before);
    const s = await as.head!.suppressions.create.mutate(window({ reason: 'Patient off the unit for MRI', rooms: ['9'] }));
    expect(await codeOf(as.otherHead!.suppressions.end.mutate({ id: s.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as['nurse.icu']!.suppressions.end.mutate({ id: s.id }))).toBe('FORBIDDEN');
    expect((await as['nurse.icu']!.suppressions.list.query()).suppressions.map((x) => x.id)).toContain(s.id);
    expect((await as['nurse.er']!.suppressions.list.query()).suppressions.map((x) => x.id)).not.toContain(s.id);
    expect((await as.otherHead!.suppressions.list.query()).suppressions.map((x) => x.id)).not.toContain(s.id);
  });
});

describe('hospital codes', () => {
  it('a code is critical, seen live by every board of the hospital, paged to its code team, never folded', async () => {
    const doctor = t.user('general', 'doctor.icu');
    await as.admin!.hospitals.updateSettings.mutate({ codeTeams: { rapid_response: [{ kind: 'user', userId: doctor.id }] } } as never);
    const er = collectEvents(as['nurse.er']!);
    const other = collectEvents(as.otherNurse!);
    await Promise.all([er.started, other.started]);
    const code = await as.operator!.alerts.raiseCode.mutate({ code: 'rapid_response', departmentId: icu(), roomNumber: '12' });
    expect(code).toMatchObject({ title: 'Rapid Response', priority: 'critical', alertType: 'code_rapid_response', code: 'rapid_response', responders: [] });
    // The ER nurse's board (another department) gets it live and on a fresh load; another hospital never does.
    await er.until((events) => events.some((e) => e.alert.id === code.id));
    expect((await as['nurse.er']!.alerts.getActive.query()).alerts.map((a) => a.id)).toContain(code.id);
    expect(await codeOf(as.otherNurse!.alerts.getById.query({ alertId: code.id }))).toBe('NOT_FOUND');
    await waitUntil(async () => (await pagesOf(code.id)).includes(doctor.id), 10_000, 'the code team to be paged');
    const again = await as.operator!.alerts.raiseCode.mutate({ code: 'rapid_response', departmentId: icu(), roomNumber: '12' });
    expect(again.id).not.toBe(code.id);
    expect(again.deduplicated).toBe(false);
    expect(other.events.filter((e) => e.alert.id === code.id)).toEqual([]);
    er.stop();
    other.stop();
  });

  it('Responding: once per person, on codes only, by people who answer alerts; the code shows who and since when', async () => {
    const code = await as['nurse.icu']!.alerts.raiseCode.mutate({ code: 'blue', departmentId: icu() });
    // No Code Blue team and no critical targets here: a code still pages someone — the head doctors.
    await waitUntil(async () => (await pagesOf(code.id)).includes(t.user('general', 'head').id), 10_000, 'the head doctors to be paged');
    const first = await as['nurse.er']!.alerts.respond.mutate({ alertId: code.id });
    expect(first.responders).toEqual([expect.objectContaining({ userId: t.user('general', 'nurse.er').id, role: 'nurse', respondedAt: expect.any(String) })]);
    const second = await as['doctor.icu']!.alerts.respond.mutate({ alertId: code.id });
    expect(second.responders.map((r) => r.userId)).toEqual([t.user('general', 'nurse.er').id, t.user('general', 'doctor.icu').id]);
    const before = await counts();
    expect(await codeOf(as['nurse.er']!.alerts.respond.mutate({ alertId: code.id }))).toBe('CONFLICT');
    expect(await codeOf(as.operator!.alerts.respond.mutate({ alertId: code.id }))).toBe('FORBIDDEN');
    expect(await codeOf(as.otherNurse!.alerts.respond.mutate({ alertId: code.id }))).toBe('NOT_FOUND');
    const plain = await as.operator!.alerts.create.mutate({ title: 'Fall', priority: 'high', alertType: 'fall', departmentId: icu() } as never);
    expect(await codeOf(as['nurse.icu']!.alerts.respond.mutate({ alertId: plain.id }))).toBe('CONFLICT');
    expect((await counts()).responders).toBe(before.responders);
    const { rows } = await env.deps.db.execute<{ type: string }>(sql`SELECT type::text FROM alert_events WHERE alert_id = ${code.id} ORDER BY id`);
    expect(rows.map((r) => r.type).filter((x) => x === 'responding')).toHaveLength(2);
    // Responding does not acknowledge: the code stays open until someone resolves it.
    expect((await as.head!.alerts.getById.query({ alertId: code.id })).alert.status).toBe('active');
  });

  it('refuses unknown codes and malformed input, writing nothing', async () => {
    const before = await counts();
    for (const input of [{ code: 'purple', departmentId: icu() }, { code: 'blue' }, { code: 'blue', departmentId: icu(), roomNumber: 'x'.repeat(41) }, { code: 'blue', departmentId: icu(), extra: 1 }]) {
      expect(await codeOf(as.operator!.alerts.raiseCode.mutate(input as never))).toBe('BAD_REQUEST');
    }
    expect(await codeOf(as.operator!.alerts.raiseCode.mutate({ code: 'fire', departmentId: t.hospital.riverside.departments.ICU }))).toBe('NOT_FOUND');
    expect(await codeOf(as['nurse.icu']!.alerts.respond.mutate({ alertId: 42 } as never))).toBe('BAD_REQUEST');
    expect(await counts()).toEqual(before);
  });
});
