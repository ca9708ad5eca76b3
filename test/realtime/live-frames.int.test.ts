import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { LocalSubscriber } from '../../server/realtime/hub.js';
import type { EncodedEvent } from '../../server/realtime/frames.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { eventually, rawTrpcSocket } from './helpers.js';

// Issue 14 item 3: after the replay the hub writes live frames itself — one encoding per event shared
// by every socket — with the same bytes tRPC would send, no gap or duplicate at the hand-off, and slow
// sockets still bounded (stalled → disconnected; too far behind → SERVICE_UNAVAILABLE and replay).
let env: TestEnv;
let server: TestServer;
let t: Tenants;
// The boards run in this process beside the server (one event loop): a generous stall bound keeps a
// reading board from looking stalled while the process is busy writing a flood.
const DRAIN_TIMEOUT_S = 8;

beforeAll(async () => {
  env = await createTestEnv({ WS_DRAIN_TIMEOUT_SECONDS: String(DRAIN_TIMEOUT_S) });
  t = await seedTenants(env);
  server = await startTestServer(env, { separate: true, fanoutTickMs: 200 });
});

interface RawSocket {
  ws: WebSocket;
  /** Raw text of every data frame, per subscription id, in arrival order. */
  frames: Map<number, string[]>;
  errors: Map<number, string>;
  subscribe(id: number, opts?: { lastEventId?: string; jsonrpc?: boolean }): void;
}

/** Keeps every data frame's exact text; the test decides whether the socket reads. */
async function rawSocket(token: string): Promise<RawSocket> {
  const frames = new Map<number, string[]>();
  const errors = new Map<number, string>();
  const sock = await rawTrpcSocket(server, token, (msg) => {
    if (msg.error) errors.set(msg.id, msg.error.data?.code ?? '?');
    else if (msg.result?.type === 'data') frames.set(msg.id, [...(frames.get(msg.id) ?? []), msg.text]);
  });
  return { ws: sock.ws, frames, errors, subscribe: sock.subscribe };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventIdOf = (frame: string) => (JSON.parse(frame) as { result: { id: string } }).result.id;
const latest = async () => Number((await env.deps.db.execute<{ id: string }>(sql`SELECT coalesce(max(id), 0)::text AS id FROM alert_events`)).rows[0]?.id);

async function raise(n: number, title = 'Frame check') {
  const operator = clientFor(server, await t.token('general', 'operator'));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = await operator.alerts.create.mutate({ title: `${title} ${i}`, priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU });
    ids.push(a.id);
  }
  return ids;
}

describe('live frames written by the hub', () => {
  it('are byte-for-byte the frames tRPC sends (replay), with or without jsonrpc, and the hub writes them itself', async () => {
    const token = await t.token('general', 'head');
    const before = String(await latest());
    const live = await rawSocket(token);
    live.subscribe(1);
    live.subscribe(2, { jsonrpc: true });
    await sleep(300);
    await raise(4);
    const after = await latest();
    await eventually(() => (live.frames.get(1)?.length ?? 0) >= 4 && (live.frames.get(2)?.length ?? 0) >= 4, 5_000, 'live frames');
    // Both subscriptions are past their hand-off: the hub writes their frames.
    expect(server.app.hub.statistics.direct).toBeGreaterThanOrEqual(2);

    const replay = await rawSocket(token);
    replay.subscribe(9, { lastEventId: before });
    await eventually(() => (replay.frames.get(9)?.length ?? 0) >= 4, 5_000, 'replayed frames');
    const replayed = replay.frames.get(9) as string[];
    expect(replayed.map(eventIdOf).map(Number).at(-1)).toBe(after);
    // Frames 2..4 went out through the hub (frame 1 was the hand-off, sent by tRPC); the replay is tRPC's own.
    for (const [i, frame] of (live.frames.get(1) as string[]).entries()) {
      expect(frame.replace(/^\{"id":1,/, '{"id":9,')).toBe(replayed[i]);
    }
    for (const [i, frame] of (live.frames.get(2) as string[]).entries()) {
      expect(frame.replace(/^\{"id":2,"jsonrpc":"2.0",/, '{"id":9,')).toBe(replayed[i]);
    }
    live.ws.terminate();
    replay.ws.terminate();
  });

  it('encode each event once for every subscriber that receives it', async () => {
    const hospitalId = t.hospital.general.id;
    const seen: EncodedEvent[][] = [[], []];
    const subs: LocalSubscriber[] = seen.map((into, i) => ({
      userId: `u${i}`,
      sessionId: `s${i}`,
      scope: { hospitalId, departmentId: i === 0 ? null : t.hospital.general.departments.ICU },
      deliver: (_e, encoded) => into.push(encoded),
      end: () => undefined,
    }));
    for (const s of subs) await server.app.hub.register(s);
    try {
      await raise(2, 'Encoded once');
      await eventually(() => seen.every((s) => s.length >= 2), 5_000, 'both subscribers');
      for (let i = 0; i < 2; i++) {
        expect(seen[0]?.[i]).toBe(seen[1]?.[i]);
        expect(seen[0]?.[i]?.bytes).toBe(seen[1]?.[i]?.bytes);
      }
    } finally {
      for (const s of subs) server.app.hub.unregister(s);
    }
  });

  it('no gap and no duplicate at the replay→live hand-off while alerts are being raised', async () => {
    const start = await latest();
    const operator = clientFor(server, await t.token('general', 'operator'));
    const creating = (async () => {
      for (let round = 0; round < 12; round++) {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            operator.alerts.create.mutate({ title: `Hand-off ${round}.${i}`, priority: 'medium', alertType: 'medical', departmentId: t.hospital.general.departments.ER }),
          ),
        );
      }
    })();
    // Boards join at different points of the stream, half resuming from where they were, half fresh.
    const boards: { cursor: number; sub: ReturnType<typeof collectEvents> }[] = [];
    for (let i = 0; i < 16; i++) {
      await sleep(40);
      const cursor = i % 2 === 0 ? Math.max(start, (await latest()) - 5) : -1;
      // A session of its own per board: one session may hold only a few sockets (issue 13's caps).
      const client = clientFor(server, await t.token('general', 'head'));
      boards.push({ cursor, sub: collectEvents(client, cursor >= 0 ? { lastEventId: String(cursor) } : undefined) });
    }
    await creating;
    // One more once every board is live, so each (even one that joined after the burst) has an end to reach.
    await Promise.all(boards.map((b) => b.sub.started));
    await operator.alerts.create.mutate({ title: 'Hand-off last', priority: 'medium', alertType: 'medical', departmentId: t.hospital.general.departments.ER });
    const end = await latest();
    for (const b of boards) {
      await b.sub.until((events) => events.some((e) => Number(e.id) === end), 10_000);
      const ids = b.sub.events.map((e) => Number(e.id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      if (b.cursor >= 0) {
        const { rows } = await env.deps.db.execute<{ id: string }>(sql`SELECT e.id::text AS id FROM alert_events e WHERE e.hospital_id = ${t.hospital.general.id} AND e.id > ${b.cursor} AND e.id <= ${end} ORDER BY e.id`);
        expect(ids).toEqual(rows.map((r) => Number(r.id)));
      } else {
        // A fresh board gets a contiguous tail of the log from where it joined.
        const { rows } = await env.deps.db.execute<{ id: string }>(sql`SELECT e.id::text AS id FROM alert_events e WHERE e.hospital_id = ${t.hospital.general.id} AND e.id >= ${ids[0] ?? end} AND e.id <= ${end} ORDER BY e.id`);
        expect(ids).toEqual(rows.map((r) => Number(r.id)));
      }
      expect(b.sub.errors).toEqual([]);
    }
    // The boards share this process with the server: stop them so the next tests' floods are not also parsed here.
    for (const b of boards) b.sub.stop();
  }, 60_000);

  it('a live socket that stops reading is disconnected after the drain timeout; one that reads gets everything', async () => {
    const token = await t.token('general', 'head');
    const reader = await rawSocket(token);
    const stalled = await rawSocket(token);
    reader.subscribe(1);
    stalled.subscribe(1);
    await sleep(300);
    await raise(1, 'Before the stall');
    await eventually(() => (stalled.frames.get(1)?.length ?? 0) === 1 && (reader.frames.get(1)?.length ?? 0) === 1, 5_000, 'hand-off');
    const existing = new Set([...server.app.wss.clients]);
    stalled.ws.pause();
    const from = await latest();
    await fatEvents(1_500);
    const started = Date.now();
    const onServer = [...existing].filter((c) => c.readyState === c.OPEN);
    await eventually(() => onServer.some((c) => c.readyState === c.CLOSED), (DRAIN_TIMEOUT_S + 15) * 1_000, 'stalled socket closed');
    const closedAfter = Date.now() - started;
    process.stdout.write(`live socket that stopped reading closed after ${closedAfter} ms\n`);
    expect(closedAfter).toBeGreaterThanOrEqual((DRAIN_TIMEOUT_S - 1) * 1_000);
    await eventually(() => (reader.frames.get(1)?.length ?? 0) === 1_501, 20_000, 'reader got all');
    const ids = (reader.frames.get(1) as string[]).slice(1).map((f) => Number(eventIdOf(f)));
    expect(ids[0]).toBe(from + 1);
    expect(ids).toEqual(Array.from({ length: 1_500 }, (_, i) => from + 1 + i));
    reader.ws.terminate();
    stalled.ws.terminate();
  }, 60_000);

  it('a live socket that falls more than the queue bound behind gets SERVICE_UNAVAILABLE (and resumes by replay)', async () => {
    const token = await t.token('general', 'head');
    const slow = await rawSocket(token);
    const reader = await rawSocket(token);
    slow.subscribe(1);
    reader.subscribe(1);
    await sleep(300);
    await raise(1, 'Before the flood');
    await eventually(() => (slow.frames.get(1)?.length ?? 0) === 1 && (reader.frames.get(1)?.length ?? 0) === 1, 5_000, 'hand-off');
    slow.ws.pause();
    await fatEvents(3_000);
    // Until the hub has fanned the whole flood out (a reading board has it all), the slow one does not read.
    await eventually(() => (reader.frames.get(1)?.length ?? 0) === 3_001, 40_000, 'reader got the flood');
    slow.ws.resume();
    await eventually(() => slow.errors.get(1) === 'SERVICE_UNAVAILABLE', 15_000, 'overflow error');
    expect(slow.frames.get(1)?.length ?? 0).toBeLessThan(3_001);
    reader.ws.terminate();
    slow.ws.terminate();
  }, 60_000);
});

/** Fat events (~10 kB each, so a few hundred outgrow the kernel's socket buffers) straight into the log; the hub's tick picks them up. */
async function fatEvents(n: number) {
  await env.deps.db.execute(sql`
    INSERT INTO alert_events (hospital_id, department_id, alert_id, type, actor_id, alert, detail, escalation_level)
    SELECT e.hospital_id, e.department_id, e.alert_id, 'updated', e.actor_id,
           e.alert || jsonb_build_object('description', repeat('x', 10000)), e.detail, e.escalation_level
    FROM (SELECT * FROM alert_events WHERE hospital_id = ${t.hospital.general.id} ORDER BY id DESC LIMIT 1) e, generate_series(1, ${n})`);
}
