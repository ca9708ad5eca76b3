import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { unshelveWhenDue } from '../../server/alerts/shelving.js';
import { escalateAlert } from '../../server/alerts/transitions.js';
import { staleJobIds } from '../../server/jobs/timers.js';
import { jobIds } from '../../server/jobs/queues.js';
import { repairMissedTimers } from '../../worker/processors/sweeper.js';
import { unshelveProcessor } from '../../worker/processors/timers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { codeOf } from '../support/errors.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { spawnWorker, waitUntil } from '../support/worker.js';

// Issue 19 item 1: shelving — "not now" for N minutes with a reason, capped per priority, back to
// active with a fresh deadline exactly once, whichever of the timer, the sweeper and a person gets there.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
const as: Record<string, Client> = {};

const counts = async () =>
  (
    await env.deps.db.execute<{ alerts: number; events: number; audit: number }>(
      sql`SELECT (SELECT count(*)::int FROM alerts) AS alerts, (SELECT count(*)::int FROM alert_events) AS events, (SELECT count(*)::int FROM audit_logs WHERE outcome = 'success') AS audit`,
    )
  ).rows[0]!;
const eventsOf = async (alertId: string) =>
  (await env.deps.db.execute<{ type: string; detail: Record<string, unknown> | null }>(sql`SELECT type::text, detail FROM alert_events WHERE alert_id = ${alertId} ORDER BY id`)).rows;
const row = async (alertId: string) =>
  (await env.deps.db.execute<{ status: string; version: number; next: Date | null; shelved_until: Date | null }>(sql`SELECT status::text, version, next_escalation_at AS next, shelved_until FROM alerts WHERE id = ${alertId}`)).rows[0]!;
/** Time passes: the shelf's end is moved into the past, as a clock would. */
const expireShelf = (alertId: string, secondsAgo = 5) => env.deps.db.execute(sql`UPDATE alerts SET shelved_until = now() - make_interval(secs => ${secondsAgo}) WHERE id = ${alertId}`);

let room = 100;
const raise = (over: Record<string, unknown> = {}) =>
  as.operator!.alerts.create.mutate({ title: `Leads off ${room++}`, priority: 'high', alertType: 'monitor', departmentId: t.hospital.general.departments.ICU, roomNumber: String(room), ...over } as never);

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  for (const a of ['operator', 'admin', 'head', 'nurse.icu', 'doctor.icu', 'nurse.er'] as const) as[a] = clientFor(server, await t.token('general', a));
  as.otherNurse = clientFor(server, await t.token('riverside', 'nurse.icu'));
});

describe('alerts.shelve', () => {
  it('shelves an active alert: no deadline, its reason and who, a shelved event and an audit row', async () => {
    const a = await raise();
    const before = await counts();
    const shelved = await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 30, reason: 'Repositioning the patient, leads off' });
    expect(shelved).toMatchObject({ status: 'shelved', nextEscalationAt: null, shelveReason: 'Repositioning the patient, leads off', shelvedByName: expect.stringMatching(/\w/) });
    const until = Date.parse(shelved.shelvedUntil!);
    expect(until).toBeGreaterThan(Date.now() + 29 * 60_000);
    expect(until).toBeLessThan(Date.now() + 31 * 60_000);
    expect((await eventsOf(a.id)).map((e) => e.type)).toEqual(['created', 'shelved']);
    expect(await counts()).toEqual({ alerts: before.alerts, events: before.events + 1, audit: before.audit + 1 });
    // Still on the board, in its own state.
    const board = await as['nurse.icu']!.alerts.getActive.query();
    expect(board.alerts.find((x) => x.id === a.id)?.status).toBe('shelved');
    // The timers: the escalation job of the version before goes; the shelf's own is the one added.
    expect(staleJobIds(shelved)).toContain(jobIds.escalate({ alertId: a.id, hospitalId: a.hospitalId, level: 0, version: 1 }));
  });

  it("caps the time by the hospital's maxShelveMinutes for the priority, writing nothing", async () => {
    const a = await raise({ priority: 'critical' });
    const before = await counts();
    const err = await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 16, reason: 'x' }).catch((e) => e);
    expect(err.data.code).toBe('BAD_REQUEST');
    expect(err.data.fieldErrors.minutes[0]).toMatch(/at most 15 minutes/);
    await as.admin!.hospitals.updateSettings.mutate({ maxShelveMinutes: { critical: 20 } } as never);
    expect(await codeOf(as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 16, reason: 'Checking the line' }))).toBe('OK');
    expect((await counts()).events).toBe(before.events + 1);
  });

  it('refuses malformed input, roles without the permission, other departments and hospitals, and codes', async () => {
    const a = await raise();
    const before = await counts();
    const bad = [
      { alertId: a.id, minutes: 0, reason: 'x' },
      { alertId: a.id, minutes: 1441, reason: 'x' },
      { alertId: a.id, minutes: 1.5, reason: 'x' },
      { alertId: a.id, minutes: 10, reason: '   ' },
      { alertId: a.id, minutes: 10, reason: 'x'.repeat(501) },
      { alertId: a.id, minutes: '10', reason: 'x' },
      { minutes: 10, reason: 'x' },
      { alertId: a.id, minutes: 10, reason: 'x', extra: true },
    ];
    for (const input of bad) expect(await codeOf(as['nurse.icu']!.alerts.shelve.mutate(input as never))).toBe('BAD_REQUEST');
    expect(await codeOf(as.operator!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'x' }))).toBe('FORBIDDEN');
    expect(await codeOf(as['nurse.er']!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'x' }))).toBe('NOT_FOUND');
    expect(await codeOf(as.otherNurse!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'x' }))).toBe('NOT_FOUND');
    expect(await codeOf(as.otherNurse!.alerts.unshelve.mutate({ alertId: a.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as['nurse.icu']!.alerts.unshelve.mutate({ alertId: a.id }))).toBe('CONFLICT');
    const afterRefusals = await counts();
    expect(afterRefusals.alerts).toBe(before.alerts);
    expect(afterRefusals.events).toBe(before.events);
    const code = await as['nurse.icu']!.alerts.raiseCode.mutate({ code: 'blue', departmentId: t.hospital.general.departments.ICU, roomNumber: '7' });
    expect(await codeOf(as['nurse.icu']!.alerts.shelve.mutate({ alertId: code.id, minutes: 5, reason: 'x' }))).toBe('CONFLICT');
    expect((await row(code.id)).status).toBe('active');
  });

  it('unshelve by a person: active again with a fresh deadline at its level and an unshelved event', async () => {
    const a = await raise();
    await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 30, reason: 'Bathing' });
    const back = await as['doctor.icu']!.alerts.unshelve.mutate({ alertId: a.id });
    expect(back.status).toBe('active');
    // high, level 0: the default policy's first timeout (180 s) from now, not from the raise.
    const next = Date.parse(back.nextEscalationAt!);
    expect(next).toBeGreaterThan(Date.now() + 170_000);
    expect(back.shelvedUntil).toBeNull();
    expect((await eventsOf(a.id)).slice(-1)[0]).toMatchObject({ type: 'unshelved', detail: { reason: 'manual' } });
  });

  it('the timer when the time is up: once; an early or stale timer does nothing', async () => {
    const a = await raise();
    const shelved = await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'Suction' });
    const log = env.deps.log;
    // Early: the shelf has not run out.
    expect(await unshelveProcessor.run(env.deps, { alertId: a.id, hospitalId: a.hospitalId, version: shelved.version }, log)).toEqual({ unshelved: false });
    await expireShelf(a.id);
    expect(await unshelveProcessor.run(env.deps, { alertId: a.id, hospitalId: a.hospitalId, version: shelved.version - 1 }, log)).toEqual({ unshelved: false });
    expect(await unshelveProcessor.run(env.deps, { alertId: a.id, hospitalId: a.hospitalId, version: shelved.version }, log)).toEqual({ unshelved: true });
    expect(await unshelveProcessor.run(env.deps, { alertId: a.id, hospitalId: a.hospitalId, version: shelved.version }, log)).toEqual({ unshelved: false });
    expect((await row(a.id)).status).toBe('active');
    expect((await eventsOf(a.id)).filter((e) => e.type === 'unshelved')).toEqual([{ type: 'unshelved', detail: { reason: 'expired' } }]);
  });

  it('no escalation while shelved: a timer set before the shelf is stale, and the sweeper passes it by', async () => {
    const a = await raise();
    await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'Family at bedside' });
    const scope = { hospitalId: a.hospitalId, departmentId: null };
    expect(await escalateAlert(env.deps, scope, { userId: null, hospitalId: a.hospitalId, ip: null, userAgent: 'test', sessionId: null }, a.id, 'timeout', { escalationLevel: 0, version: 1 })).toBeNull();
    await repairMissedTimers(env.deps, env.deps.log);
    expect(await row(a.id)).toMatchObject({ status: 'shelved', next: null });
  });

  it('races: the timer, the sweeper, an unshelve and an acknowledgement at once — exactly one wins, once', async () => {
    for (let i = 0; i < 5; i++) {
      const a = await raise();
      const shelved = await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'Race' });
      await expireShelf(a.id);
      const p = { alertId: a.id, hospitalId: a.hospitalId, version: shelved.version };
      await Promise.allSettled([
        unshelveProcessor.run(env.deps, p, env.deps.log),
        unshelveWhenDue(env.deps, a.hospitalId, a.id, shelved.version),
        repairMissedTimers(env.deps, env.deps.log),
        as['doctor.icu']!.alerts.unshelve.mutate({ alertId: a.id }),
        as['nurse.icu']!.alerts.acknowledge.mutate({ alertId: a.id }),
      ]);
      const types = (await eventsOf(a.id)).map((e) => e.type);
      const unshelved = types.filter((x) => x === 'unshelved').length;
      const acked = types.filter((x) => x === 'acknowledged').length;
      expect(unshelved).toBeLessThanOrEqual(1);
      expect(acked).toBeLessThanOrEqual(1);
      expect(unshelved + acked).toBeGreaterThanOrEqual(1);
      const r = await row(a.id);
      // Whatever order they landed in, the row agrees with its last event and nothing is left shelved.
      const last = types.filter((x) => x === 'unshelved' || x === 'acknowledged').at(-1);
      expect(r.status).toBe(last === 'unshelved' ? 'active' : 'acknowledged');
      expect(r.shelved_until).toBeNull();
    }
  });

  it('a repeat of a shelved alert folds into it and stays shelved (a monitor re-sending its alarm)', async () => {
    // The seed turns duplicate folding off; this hospital folds within two minutes.
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '120'::jsonb) WHERE id = ${t.hospital.general.id}`);
    const a = await raise({ title: 'SpO2 low', roomNumber: '401' });
    await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'Probe repositioned' });
    const again = await raise({ title: 'SpO2 low', roomNumber: '401' });
    expect(again).toMatchObject({ id: a.id, deduplicated: true, status: 'shelved', repeatCount: 1 });
  });
});

describe('a worker SIGKILLed while an alert is shelved', () => {
  it('the next worker brings it back exactly once when the time is up (sweeper fallback)', async () => {
    const first = spawnWorker(env, { SWEEP_INTERVAL_MS: '300' });
    const a = await raise();
    await as['nurse.icu']!.alerts.shelve.mutate({ alertId: a.id, minutes: 1, reason: 'Worker crash test' });
    // The shelf ends two seconds from now; the worker that set its timer dies before then.
    await env.deps.db.execute(sql`UPDATE alerts SET shelved_until = now() + interval '2 seconds' WHERE id = ${a.id}`);
    await new Promise((r) => setTimeout(r, 500));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // Its Redis timer is still the one-minute one: only the sweeper of the next worker can be on time.
    expect((await row(a.id)).status).toBe('shelved');
    const second = spawnWorker(env, { SWEEP_INTERVAL_MS: '300' });
    await waitUntil(async () => (await row(a.id)).status === 'active', 20_000, 'the shelf to end');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await eventsOf(a.id)).filter((e) => e.type === 'unshelved')).toHaveLength(1);
    second.kill('SIGKILL');
  });
});
