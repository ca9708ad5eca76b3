import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertEventStream } from '../../server/alerts/subscription.js';
import { type AuthSession, resolveSession } from '../../server/auth/sessions.js';
import { withDatabase } from '../../server/db/admin.js';
import { sessions } from '../../server/db/schema.js';
import { EventHub } from '../../server/realtime/hub.js';
import { screensOnline } from '../../server/realtime/presence.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 13 item 7: whatever a subscription starts (presence heartbeat, session re-check, its hub
// registration, its admission slot) is released on every way out — a failed register, a failed
// replay, an abort before or during the start, a client unsubscribe.
let env: TestEnv;
let server: TestServer;
let t: Tenants;

beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
  server = await startTestServer(env, { separate: true, fanoutTickMs: 300 });
});
afterEach(() => {
  vi.useRealTimers();
});

const icuScreens = async () => (await screensOnline(env.deps, t.hospital.general.id)).counts.get(t.hospital.general.departments.ICU) ?? 0;
const nurseSession = async (): Promise<AuthSession> => (await resolveSession(env.deps.db, await t.token('general', 'nurse.icu'), 720)) as AuthSession;
const lastSeenOf = async (sessionId: string) =>
  (await env.deps.db.select({ at: sessions.lastSeenAt }).from(sessions).where(eq(sessions.id, sessionId)))[0]?.at.toISOString();

/** A hub whose Postgres reads all fail (its database does not exist): register() rejects. */
function failingHub(): EventHub {
  const config = { ...env.config, database: { ...env.config.database, url: withDatabase(env.databaseUrl, 'clarion_no_such_database'), connectionTimeoutMs: 2_000 } };
  return new EventHub({ ...env.deps, config });
}

describe('a failed registration releases everything the subscription started', () => {
  it('over the socket: the nurse gets an error, is not counted as a screen, and can subscribe again', async () => {
    // The hub's first read for a hospital (the newest event id) fails: alert_events is briefly missing.
    await env.deps.db.execute(sql`ALTER TABLE alert_events RENAME TO alert_events_hidden`);
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    const failed = collectEvents(nurse);
    try {
      await failed.until(() => failed.errors.length > 0, 5_000);
    } finally {
      await env.deps.db.execute(sql`ALTER TABLE alert_events_hidden RENAME TO alert_events`);
    }
    expect(failed.errors[0]!.code).not.toBe('UNAUTHORIZED');
    expect(await icuScreens()).toBe(0);
    expect(server.app.hub.statistics.subscribers).toBe(0);

    // The same nurse subscribes again and is counted, once; unsubscribing withdraws the screen.
    const again = collectEvents(nurse);
    await again.started;
    const deadline = Date.now() + 3_000;
    while ((await icuScreens()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await icuScreens()).toBe(1);
    again.stop();
    const until = Date.now() + 3_000;
    while ((await icuScreens()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await icuScreens()).toBe(0);
    expect(server.app.hub.statistics.subscribers).toBe(0);
  });

  it('directly: no interval survives a failed register, so nothing re-announces the screen or touches the session', async () => {
    const hub = failingHub();
    const auth = await nurseSession();
    // Only intervals are faked: the database and Redis calls still run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const stream = alertEventStream({ deps: env.deps, hub, auth });
      await expect(stream.next()).rejects.toThrow();
      expect(vi.getTimerCount()).toBe(0);
      await env.deps.db.execute(sql`UPDATE sessions SET last_seen_at = now() - interval '1 hour' WHERE id = ${auth.session.id}`);
      const seen = await lastSeenOf(auth.session.id);
      vi.advanceTimersByTime(5 * 60_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(await lastSeenOf(auth.session.id)).toBe(seen);
      expect(await icuScreens()).toBe(0);
    } finally {
      vi.useRealTimers();
      await hub.stop();
    }
  });
});

describe('every other way out releases it too', () => {
  const hub = () => server.app.hub;
  async function exitCleanly(run: (auth: AuthSession) => Promise<void>) {
    const auth = await nurseSession();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await run(auth);
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
    expect(hub().statistics.subscribers).toBe(0);
    const deadline = Date.now() + 2_000;
    while ((await icuScreens()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await icuScreens()).toBe(0);
  }

  it('an abort before the stream starts', async () => {
    await exitCleanly(async (auth) => {
      const abort = new AbortController();
      abort.abort();
      const stream = alertEventStream({ deps: env.deps, hub: hub(), auth, signal: abort.signal });
      expect((await stream.next()).done).toBe(true);
    });
  });

  it('an abort while it is starting', async () => {
    await exitCleanly(async (auth) => {
      const abort = new AbortController();
      const stream = alertEventStream({ deps: env.deps, hub: hub(), auth, signal: abort.signal, lastEventId: '0' });
      const first = stream.next();
      abort.abort();
      await first;
      await stream.return(undefined);
    });
  });

  it('an error from the replay (lastEventId ahead of the log)', async () => {
    await exitCleanly(async (auth) => {
      const stream = alertEventStream({ deps: env.deps, hub: hub(), auth, lastEventId: '999999999' });
      await expect(stream.next()).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    });
  });

  it('a client unsubscribe while live', async () => {
    await exitCleanly(async (auth) => {
      const abort = new AbortController();
      const stream = alertEventStream({ deps: env.deps, hub: hub(), auth, signal: abort.signal });
      const next = stream.next();
      await new Promise((r) => setTimeout(r, 300));
      expect(hub().statistics.subscribers).toBe(1);
      abort.abort();
      expect((await next).done).toBe(true);
    });
  });
});
