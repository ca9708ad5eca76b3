import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { eventually, freshUser, sessionFor, socketClient } from './helpers.js';

// Issue 13, item 15: nothing one client sends or holds open is unbounded. Small limits here, so
// each can be reached; the defaults are in docs/operations.md.
let env: TestEnv;
let t: Tenants;

beforeAll(async () => {
  env = await createTestEnv({
    // X-Forwarded-For is trusted across one hop, so a test can speak from several addresses.
    TRUST_PROXY_HOPS: '1',
    HTTP_MAX_BATCH_SIZE: '50',
    WS_AUTH_TIMEOUT_SECONDS: '1',
    WS_MAX_UNAUTHENTICATED: '6',
    WS_MAX_UNAUTHENTICATED_PER_ADDRESS: '3',
    WS_MAX_PER_SESSION: '2',
    WS_MAX_PER_USER: '3',
  });
  t = await seedTenants(env);
});

/** A bare socket that never says who it is (it announces connectionParams and then sends nothing). */
function silentSocket(server: TestServer, address: string) {
  const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`, { headers: { 'x-forwarded-for': address } });
  const state = { open: false, closed: null as { code: number; reason: string } | null, openedAt: 0 };
  ws.on('open', () => {
    state.open = true;
    state.openedAt = Date.now();
  });
  ws.on('close', (code, reason) => {
    state.closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => undefined);
  return { ws, state };
}

describe('HTTP batches are bounded', () => {
  it('a batch over the limit is refused with a 400 that says the limit; other users keep working', async () => {
    const server = await startTestServer(env);
    const token = await t.token('general', 'nurse.icu');
    const batch = async (n: number) => {
      const paths = Array.from({ length: n }, () => 'alerts.getActive').join(',');
      const input = encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, null]))));
      return fetch(`${server.url}/trpc/${paths}?batch=1&input=${input}`, { headers: { authorization: `Bearer ${token}` } });
    };
    const big = await batch(200);
    expect(big.status).toBe(400);
    const body = (await big.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe('BAD_REQUEST');
    expect(body.error.message).toContain('at most 50');
    expect((await batch(51)).status).toBe(400);
    const ok = await batch(50);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as unknown[]).length).toBe(50);
    // A typed client (httpBatchLink-style single calls) of another user is unaffected.
    expect((await clientFor(server, await t.token('general', 'operator')).alerts.getActive.query()).alerts).toBeDefined();
  });
});

describe('WebSocket frames are bounded like HTTP batches', () => {
  it('a frame batching more calls than the limit runs none of them and closes the socket with the reason', async () => {
    const server = await startTestServer(env);
    const token = await t.token('general', 'nurse.icu');
    const frames = async (n: number) => {
      const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`);
      const results: unknown[] = [];
      let closed: { code: number; reason: string } | null = null;
      ws.on('message', (m) => {
        const msg = JSON.parse(m.toString()) as { result?: unknown };
        if (msg.result) results.push(msg.result);
      });
      ws.on('close', (code, reason) => {
        closed = { code, reason: reason.toString() };
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send(JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i + 1, method: 'query', params: { path: 'auth.me', input: null } }))));
      await new Promise((r) => setTimeout(r, 1_000));
      ws.close();
      return { results, closed: closed as { code: number; reason: string } | null };
    };
    const big = await frames(60);
    expect(big.results).toEqual([]);
    expect(big.closed).toEqual({ code: 4413, reason: 'Too many calls in one message: 60 (at most 50 per message); send them in smaller batches' });
    const ok = await frames(50);
    expect(ok.results.length).toBe(50);
  });
});

describe('sockets without a session are bounded', () => {
  it('a socket with no valid session is closed after the authentication deadline; a signed-in one stays', async () => {
    const server = await startTestServer(env);
    const silent = silentSocket(server, '10.1.0.1');
    const badToken = socketClient(server, 'not-a-token', { 'x-forwarded-for': '10.1.0.2' });
    await expect(badToken.client.auth.me.query()).rejects.toThrow();
    const good = socketClient(server, await t.token('general', 'nurse.icu'));
    await good.client.auth.me.query();
    await eventually(() => silent.state.closed !== null, 3_000, 'silent socket closed');
    expect(silent.state.closed).toEqual({ code: 4408, reason: expect.stringContaining('No valid session within 1 s') });
    await eventually(() => badToken.closes.some((c) => c.code === 4408), 3_000, 'bad-token socket closed');
    await new Promise((r) => setTimeout(r, 500));
    expect(good.closes).toEqual([]);
    expect((await good.client.auth.me.query()).role).toBe('nurse');
    expect(good.opens).toBe(1);
  });

  it('caps them per address and per instance with a clear close; signed-in users keep working', async () => {
    const server = await startTestServer(env);
    const good = socketClient(server, await t.token('general', 'doctor.icu'));
    await good.client.auth.me.query();

    const sameAddress = [1, 2, 3, 4].map(() => silentSocket(server, '10.2.0.1'));
    await eventually(() => sameAddress.every((s) => s.state.open || s.state.closed), 2_000, 'sockets opened');
    await new Promise((r) => setTimeout(r, 200));
    const refused = sameAddress.filter((s) => s.state.closed);
    expect(refused.length).toBe(1);
    expect(refused[0]?.state.closed).toEqual({ code: 4429, reason: 'Too many connections without a session from your address (limit 3)' });

    // Another address may still connect, up to the instance's cap (6 in all).
    const others = ['10.2.0.2', '10.2.0.3', '10.2.0.4', '10.2.0.5'].map((ip) => silentSocket(server, ip));
    await eventually(() => others.every((s) => s.state.open || s.state.closed), 2_000, 'sockets opened');
    await new Promise((r) => setTimeout(r, 200));
    const busy = others.filter((s) => s.state.closed);
    expect(busy.length).toBe(1);
    expect(busy[0]?.state.closed?.code).toBe(4429);
    expect(busy[0]?.state.closed?.reason).toContain('waiting to sign in on this server');

    // The signed-in socket is untouched, and HTTP is unaffected.
    expect((await good.client.auth.me.query()).role).toBe('doctor');
    expect(good.closes).toEqual([]);
    expect((await clientFor(server, await t.token('general', 'nurse.er')).auth.me.query()).role).toBe('nurse');
    // After the deadline the caps free up again.
    await eventually(() => [...sameAddress, ...others].every((s) => s.state.closed), 3_000, 'all closed by the deadline');
    const later = silentSocket(server, '10.2.0.1');
    await eventually(() => later.state.open, 2_000, 'a new socket is accepted');
    later.ws.close();
  });
});

describe('sockets per session and per user are bounded', () => {
  it('one socket too many for a session, or for a user, is closed with 4429 and the reason; the others and other users keep working', async () => {
    const server = await startTestServer(env);
    const nurse = await freshUser(env, t, 'nurse');
    const s1 = await sessionFor(env, nurse);
    const first = socketClient(server, s1);
    const second = socketClient(server, s1);
    await first.client.auth.me.query();
    await second.client.auth.me.query();
    const third = socketClient(server, s1);
    await expect(third.client.auth.me.query()).rejects.toThrow();
    await eventually(() => third.closes.length > 0, 2_000, 'third socket closed');
    expect(third.closes[0]).toEqual({ code: 4429, reason: 'Too many open connections for this session (limit 2)' });

    // A second session of the same user: one more socket fits the user's cap of 3, the next does not.
    const s2 = await sessionFor(env, nurse);
    const fourth = socketClient(server, s2);
    await fourth.client.auth.me.query();
    const fifth = socketClient(server, await sessionFor(env, nurse));
    await expect(fifth.client.auth.me.query()).rejects.toThrow();
    await eventually(() => fifth.closes.length > 0, 2_000, 'fifth socket closed');
    expect(fifth.closes[0]).toEqual({ code: 4429, reason: 'Too many open connections for this account (limit 3)' });

    // The sockets within the caps work; another user is not affected at all.
    for (const c of [first, second, fourth]) expect((await c.client.auth.me.query()).id).toBe(nurse.id);
    const other = socketClient(server, await t.token('general', 'head'));
    expect((await other.client.auth.me.query()).role).toBe('head_doctor');
    // Closing one frees a place.
    await first.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = socketClient(server, s1);
    expect((await again.client.auth.me.query()).id).toBe(nurse.id);
  });
});
