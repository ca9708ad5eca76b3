import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Collector, clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Duplicate suppression (DESIGN.md, clinical safety contract → Duplicates): only the same emergency
// folds — same department, room, type and title — and a repeat never lowers urgency.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
type Client = ReturnType<typeof clientFor>;
let operator: Client;
let nurse: Client;
const collectors: Collector[] = [];
let room = 500;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  await setWindow(120);
  operator = clientFor(server, await t.token('general', 'operator'));
  nurse = clientFor(server, await t.token('general', 'nurse.icu'));
});
afterAll(() => {
  for (const c of collectors) c.stop();
});

async function setWindow(seconds: number) {
  await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', ${String(seconds)}::jsonb) WHERE id = ${t.hospital.general.id}`);
}
const icu = () => t.hospital.general.departments.ICU;
const nextRoom = () => String(room++);
type Raise = { title: string; priority?: string; roomNumber?: string; alertType?: string };
const raise = (r: Raise) =>
  operator.alerts.create.mutate({ alertType: 'medical', priority: 'high', departmentId: icu(), ...r } as never) as Promise<
    Awaited<ReturnType<typeof operator.alerts.create.mutate>> & { priorityRaisedFrom?: string | null }
  >;
async function events(alertId: string) {
  const { rows } = await env.deps.db.execute<{ type: string; detail: Record<string, unknown> | null }>(sql`SELECT type::text, detail FROM alert_events WHERE alert_id = ${alertId} ORDER BY id`);
  return rows;
}
const secondsFrom = (from: string, to: string | null) => (Date.parse(to as string) - Date.parse(from)) / 1000;

describe('duplicate suppression folds only the same emergency', () => {
  it('a critical "Cardiac arrest" in a room with an open low "Patient needs water" is its own alert, on the critical timeline', async () => {
    const r = nextRoom();
    const water = await raise({ title: 'Patient needs water', priority: 'low', roomNumber: r });
    const arrest = await raise({ title: 'Cardiac arrest', priority: 'critical', roomNumber: r });
    expect(arrest.deduplicated).toBe(false);
    expect(arrest.id).not.toBe(water.id);
    expect(arrest).toMatchObject({ priority: 'critical', status: 'active', repeatCount: 0 });
    // Critical level 0 times out after 60 s (the default policy); low after 30 min.
    expect(secondsFrom(arrest.createdAt, arrest.nextEscalationAt)).toBeCloseTo(60, 0);
    const detail = await operator.alerts.getById.query({ alertId: water.id });
    expect(detail.alert).toMatchObject({ priority: 'low', repeatCount: 0, title: 'Patient needs water' });
    expect((await events(water.id)).map((e) => e.type)).toEqual(['created']);
  });

  it('roomless alerts with different titles stay apart; a roomless raise never folds into a roomed one', async () => {
    const a = await raise({ title: 'Needs a porter' });
    const b = await raise({ title: 'Needs a pharmacist' });
    expect(b.deduplicated).toBe(false);
    expect(b.id).not.toBe(a.id);
    const roomed = await raise({ title: 'Needs a chaplain', roomNumber: nextRoom() });
    const roomless = await raise({ title: 'Needs a chaplain' });
    expect(roomless.deduplicated).toBe(false);
    expect(roomless.id).not.toBe(roomed.id);
    // The same roomless title does fold.
    const again = await raise({ title: 'needs a porter' });
    expect(again).toMatchObject({ id: a.id, deduplicated: true, repeatCount: 1 });
  });

  it('the same title, ignoring case and surrounding spaces, folds into the open alert', async () => {
    const r = nextRoom();
    const first = await raise({ title: 'Chest pain', roomNumber: r });
    const again = await raise({ title: '  chest PAIN ', roomNumber: r });
    expect(again).toMatchObject({ id: first.id, deduplicated: true, repeatCount: 1, title: 'Chest pain', priorityRaisedFrom: null });
    expect((await events(first.id)).map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['repeated', { repeatCount: 1 }],
    ]);
    // Another type, room or department is another emergency.
    expect((await raise({ title: 'Chest pain', roomNumber: r, alertType: 'other' })).deduplicated).toBe(false);
    expect((await raise({ title: 'Chest pain', roomNumber: nextRoom() })).deduplicated).toBe(false);
  });

  it('a higher-priority repeat raises the open alert (an updated event) and moves its deadline onto the new timeline; a lower one lowers nothing', async () => {
    const r = nextRoom();
    const first = await raise({ title: 'Breathing difficulty', priority: 'low', roomNumber: r });
    expect(secondsFrom(first.createdAt, first.nextEscalationAt)).toBeCloseTo(1_800, 0);
    const raised = await raise({ title: 'Breathing difficulty', priority: 'critical', roomNumber: r });
    expect(raised).toMatchObject({ id: first.id, deduplicated: true, repeatCount: 1, priority: 'critical', priorityRaisedFrom: 'low' });
    // Counted from when the alert reached its level (created, level 0): critical's 60 s.
    expect(secondsFrom(first.createdAt, raised.nextEscalationAt)).toBeCloseTo(60, 0);
    expect((await events(first.id)).map((e) => [e.type, e.detail])).toEqual([
      ['created', null],
      ['updated', { changed: ['priority'], priority: { from: 'low', to: 'critical' }, reason: 'repeat' }],
      ['repeated', { repeatCount: 1 }],
    ]);
    const lower = await raise({ title: 'Breathing difficulty', priority: 'medium', roomNumber: r });
    expect(lower).toMatchObject({ id: first.id, deduplicated: true, repeatCount: 2, priority: 'critical', priorityRaisedFrom: null, nextEscalationAt: raised.nextEscalationAt });
    const equal = await raise({ title: 'Breathing difficulty', priority: 'critical', roomNumber: r });
    expect(equal).toMatchObject({ repeatCount: 3, priority: 'critical', nextEscalationAt: raised.nextEscalationAt });
    expect((await events(first.id)).filter((e) => e.type === 'updated')).toHaveLength(1);
    const { rows } = await env.deps.db.execute<{ metadata: Record<string, unknown> }>(
      sql`SELECT metadata FROM audit_logs WHERE resource_id = ${first.id} AND action = 'alert.repeated' ORDER BY seq`,
    );
    expect(rows.map((x) => x.metadata.priorityRaisedFrom ?? null)).toEqual(['low', null, null]);
  });

  it('a repeat of an acknowledged alert re-alerts its screens (a repeated event) without reopening it', async () => {
    const r = nextRoom();
    const first = await raise({ title: 'Bleeding', priority: 'high', roomNumber: r });
    await nurse.alerts.acknowledge.mutate({ alertId: first.id });
    const { lastEventId } = await nurse.alerts.getActive.query();
    const board = collectEvents(nurse, { lastEventId });
    collectors.push(board);
    await board.started;
    const again = await raise({ title: 'Bleeding', priority: 'critical', roomNumber: r });
    expect(again).toMatchObject({ id: first.id, deduplicated: true, status: 'acknowledged', priority: 'critical', repeatCount: 1 });
    // Acknowledged alerts do not escalate: the raise changes the priority, not the (absent) deadline.
    expect(again.nextEscalationAt).toBeNull();
    await board.until((es) => es.some((e) => e.type === 'repeated' && e.alert.id === first.id));
    const got = board.events.filter((e) => e.alert.id === first.id);
    expect(got.map((e) => [e.type, e.alert.status])).toEqual([
      ['updated', 'acknowledged'],
      ['repeated', 'acknowledged'],
    ]);
  });

  it('the window counts from the last raise: an update does not extend it, a repeat does', async () => {
    await setWindow(2);
    try {
      const r = nextRoom();
      const first = await raise({ title: 'Call bell', roomNumber: r });
      await new Promise((res) => setTimeout(res, 1_200));
      await operator.alerts.update.mutate({ alertId: first.id, description: 'Patient asked twice' });
      await new Promise((res) => setTimeout(res, 1_200));
      // 2.4 s after the raise, 1.2 s after the update: outside the window.
      const later = await raise({ title: 'Call bell', roomNumber: r });
      expect(later.deduplicated).toBe(false);
      expect(later.id).not.toBe(first.id);
      // A repeat is a raise: it restarts the window.
      await new Promise((res) => setTimeout(res, 1_200));
      expect(await raise({ title: 'Call bell', roomNumber: r })).toMatchObject({ id: later.id, deduplicated: true, repeatCount: 1 });
      await new Promise((res) => setTimeout(res, 1_200));
      expect(await raise({ title: 'Call bell', roomNumber: r })).toMatchObject({ id: later.id, deduplicated: true, repeatCount: 2 });
    } finally {
      await setWindow(120);
    }
  });

  it('five simultaneous identical raises (spelt differently) make one alert', async () => {
    const r = nextRoom();
    const titles = ['Patient fall', 'patient fall', 'PATIENT FALL', ' Patient Fall', 'Patient fall  '];
    const results = await Promise.all(titles.map((title) => raise({ title, roomNumber: r, alertType: 'fall' })));
    expect(new Set(results.map((x) => x.id)).size).toBe(1);
    expect(results.filter((x) => !x.deduplicated)).toHaveLength(1);
    const { rows } = await env.deps.db.execute<{ n: number; repeats: number }>(
      sql`SELECT count(*)::int AS n, max(repeat_count)::int AS repeats FROM alerts WHERE room_number = ${r} AND department_id = ${icu()}`,
    );
    expect(rows[0]).toEqual({ n: 1, repeats: 4 });
  });
});
