import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetAdmin } from '../../server/accounts/bootstrap.js';
import { alerts, sessions, users } from '../../server/db/schema.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { trpcError } from '../support/errors.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { eventually, freshUser, PASSWORD, type SocketClient, sessionFor, socketClient, userRow } from './helpers.js';

// Items 1 and 13 of issue 13: a socket keeps no identity of its own. Two instances, as behind a load
// balancer: the socket is on B, the session ends through A (HTTP), and B must close it.
let env: TestEnv;
let a: TestServer;
let b: TestServer;
let t: Tenants;
let operator: ReturnType<typeof clientFor>;
let admin: ReturnType<typeof clientFor>;

beforeAll(async () => {
  // A 1 s periodic session check, so expiry without any call is seen quickly.
  env = await createTestEnv({ WS_SESSION_CHECK_SECONDS: '1' });
  a = await startTestServer(env, { separate: true });
  b = await startTestServer(env, { separate: true });
  t = await seedTenants(env);
  operator = clientFor(a, await t.token('general', 'operator'));
  admin = clientFor(a, await t.token('general', 'admin'));
});

const raiseIcu = () =>
  operator.alerts.create.mutate({ title: `Socket test ${Math.random()}`, priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU });

const alertStatus = async (id: string) => (await env.deps.db.select({ s: alerts.status }).from(alerts).where(eq(alerts.id, id)))[0]?.s;

/** A nurse of ICU with a socket on B that has answered a query and holds a live subscription. */
async function openBoard(server: TestServer = b) {
  const nurse = await freshUser(env, t, 'nurse');
  const token = await nurse.token();
  const sc = socketClient(server, token);
  expect((await sc.client.auth.me.query()).id).toBe(nurse.id);
  const errors: string[] = [];
  let started = false;
  sc.client.alerts.onEvent.subscribe(undefined, {
    onStarted: () => {
      started = true;
    },
    onError: (err) => errors.push((err as { data?: { code?: string } }).data?.code ?? err.message),
  });
  await eventually(() => started, 2_000, 'subscription started');
  return { nurse, token, sc, errors };
}

/** What every ended identity must get over its socket: UNAUTHORIZED for queries and mutations, nothing acknowledged. */
async function expectRefused(sc: SocketClient, alertId: string) {
  expect((await trpcError(sc.client.auth.me.query())).code).toBe('UNAUTHORIZED');
  expect((await trpcError(sc.client.alerts.getActive.query())).code).toBe('UNAUTHORIZED');
  expect((await trpcError(sc.client.alerts.acknowledge.mutate({ alertId }))).code).toBe('UNAUTHORIZED');
  expect(await alertStatus(alertId)).toBe('active');
}

/** The subscription ended with UNAUTHORIZED, then the server closed the socket (code 4401). */
async function expectClosed(board: Awaited<ReturnType<typeof openBoard>>, ms = 2_000) {
  const took = await eventually(() => board.sc.closes.some((c) => c.code === 4401), ms, 'socket closed with 4401');
  expect(board.errors).toContain('UNAUTHORIZED');
  return took;
}

describe('ending a session closes its socket on every instance', () => {
  it('logout (through the other instance): subscription ends with UNAUTHORIZED, socket closed, calls refused', async () => {
    const board = await openBoard();
    const alert = await raiseIcu();
    // The same socket still works before the logout.
    expect((await board.sc.client.alerts.getActive.query()).alerts.some((x) => x.id === alert.id)).toBe(true);
    await clientFor(a, board.token).auth.logout.mutate();
    const took = await expectClosed(board);
    expect(took).toBeLessThan(2_000);
    await expectRefused(board.sc, alert.id);
  });

  it('a logout over the socket itself closes it too', async () => {
    const board = await openBoard(a);
    const alert = await raiseIcu();
    await board.sc.client.auth.logout.mutate();
    await expectClosed(board);
    await expectRefused(board.sc, alert.id);
  });

  it('admin revocation (the admin CLI reset ends every session of the account)', async () => {
    const other = await freshUser(env, t, 'admin');
    const sc = socketClient(b, await other.token());
    expect((await sc.client.auth.me.query()).id).toBe(other.id);
    await resetAdmin(env.deps, other.email, 'test');
    await eventually(() => sc.closes.some((c) => c.code === 4401), 2_000, 'socket closed');
    const alert = await raiseIcu();
    await expectRefused(sc, alert.id);
  });

  it('deactivation by an admin', async () => {
    const board = await openBoard();
    const alert = await raiseIcu();
    await admin.users.deactivate.mutate({ id: board.nurse.id });
    await expectClosed(board);
    await expectRefused(board.sc, alert.id);
  });

  it('a role change, and a department change', async () => {
    const board = await openBoard();
    const alert = await raiseIcu();
    await admin.users.updateRole.mutate({ userId: board.nurse.id, role: 'doctor' });
    await expectClosed(board);
    // The session itself stays valid (HTTP answers with the new role): the client reconnects and its
    // new socket speaks for the doctor; nothing more went over the nurse's socket.
    expect((await clientFor(a, board.token).auth.me.query()).role).toBe('doctor');
    expect((await board.sc.client.auth.me.query()).role).toBe('doctor');
    expect(board.sc.opens).toBe(2);
    expect(await alertStatus(alert.id)).toBe('active');

    const moved = await openBoard();
    await admin.users.update.mutate({ id: moved.nurse.id, departmentId: t.hospital.general.departments.ER });
    await expectClosed(moved);
    expect((await moved.sc.client.auth.me.query()).departmentId).toBe(t.hospital.general.departments.ER);
  });

  it('a password change ends the other sessions: their socket closes and re-subscribing on it is refused at once', async () => {
    const board = await openBoard();
    const alert = await raiseIcu();
    const mine = clientFor(a, await sessionFor(env, board.nurse));
    await mine.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: 'A-new-passphrase-2026' });
    await expectClosed(board);
    // Re-subscribing (what beat the 30 s session re-check before) answers UNAUTHORIZED straight away.
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      board.sc.client.alerts.onEvent.subscribe(undefined, {
        onStarted: () => resolve('started'),
        onError: (err) => resolve((err as { data?: { code?: string } }).data?.code ?? err.message),
      });
      setTimeout(() => resolve('nothing'), 3_000);
    });
    expect(outcome).toBe('UNAUTHORIZED');
    expect(Date.now() - started).toBeLessThan(1_000);
    await expectRefused(board.sc, alert.id);
    // The session that changed the password stays signed in.
    expect((await mine.auth.me.query()).id).toBe(board.nurse.id);
  });
});

describe('every call over a socket re-checks the session (even when no control message arrives)', () => {
  // These change the database directly, as if the control message had been lost in a Redis outage.
  it('revoked, deactivated or re-roled behind the socket’s back: the next call over the same socket is refused and the socket closed', async () => {
    for (const change of ['revoked', 'deactivated', 'role'] as const) {
      const board = await openBoard();
      const alert = await raiseIcu();
      if (change === 'revoked') await env.deps.db.update(sessions).set({ revokedAt: sql`now()` }).where(eq(sessions.userId, board.nurse.id));
      if (change === 'deactivated') await env.deps.db.update(users).set({ isActive: false }).where(eq(users.id, board.nurse.id));
      if (change === 'role') await env.deps.db.update(users).set({ role: 'doctor' }).where(eq(users.id, board.nurse.id));
      expect(board.sc.opens).toBe(1);
      // Still the first socket: the refusal comes from the re-check, not from a reconnect.
      expect((await trpcError(board.sc.client.alerts.acknowledge.mutate({ alertId: alert.id }))).code).toBe('UNAUTHORIZED');
      expect(board.sc.opens).toBe(1);
      await expectClosed(board);
      if (change !== 'role') await expectRefused(board.sc, alert.id);
    }
  });

  it('a session that expires or idles out closes its socket without any call (periodic check)', async () => {
    const expired = await openBoard();
    const idle = await openBoard();
    await env.deps.db.update(sessions).set({ expiresAt: sql`now()` }).where(eq(sessions.userId, expired.nurse.id));
    await env.deps.db.update(sessions).set({ lastSeenAt: sql`now() - interval '2 days'` }).where(eq(sessions.userId, idle.nurse.id));
    await expectClosed(expired, 4_000);
    await expectClosed(idle, 4_000);
  });
});

describe('issue 13, finding 13: a demoted and deactivated admin cannot take control back over an old socket', () => {
  it('users.reactivate on themselves, updateRole back to admin and deactivate of the real admin are all refused; nothing changes', async () => {
    const rogue = await freshUser(env, t, 'admin');
    const sc = socketClient(b, await rogue.token());
    expect((await sc.client.auth.me.query()).role).toBe('admin');
    const realAdminId = t.user('general', 'admin').id;

    await admin.users.updateRole.mutate({ userId: rogue.id, role: 'nurse', departmentId: t.hospital.general.departments.ICU });
    await admin.users.deactivate.mutate({ id: rogue.id });
    // Its socket is closed (a call caught in flight by the close would fail with "WebSocket closed"
    // rather than an answer); what follows goes out on the client's reconnect with the same token.
    await eventually(() => sc.closes.some((c) => c.code === 4401), 2_000, 'socket closed');
    const before = await env.deps.db.execute(sql`SELECT id, role, is_active, department_id, updated_at FROM users ORDER BY id`);

    for (const call of [
      () => sc.client.users.reactivate.mutate({ id: rogue.id }),
      () => sc.client.users.updateRole.mutate({ userId: rogue.id, role: 'admin' }),
      () => sc.client.users.deactivate.mutate({ id: realAdminId }),
    ]) {
      expect((await trpcError(call())).code).toBe('UNAUTHORIZED');
    }
    expect(await userRow(env, rogue.id)).toEqual({ role: 'nurse', isActive: false, departmentId: t.hospital.general.departments.ICU });
    expect(await userRow(env, realAdminId)).toMatchObject({ role: 'admin', isActive: true });
    const after = await env.deps.db.execute(sql`SELECT id, role, is_active, department_id, updated_at FROM users ORDER BY id`);
    expect(after.rows).toEqual(before.rows);
  });

  it('the same calls, when the socket is re-checked before any control message (demoted only)', async () => {
    const rogue = await freshUser(env, t, 'admin');
    const sc = socketClient(b, await rogue.token());
    expect((await sc.client.auth.me.query()).role).toBe('admin');
    // Demoted directly in the database: no control message, the socket is still open.
    await env.deps.db.update(users).set({ role: 'nurse', departmentId: t.hospital.general.departments.ICU }).where(eq(users.id, rogue.id));
    expect((await trpcError(sc.client.users.updateRole.mutate({ userId: rogue.id, role: 'admin' }))).code).toBe('UNAUTHORIZED');
    expect(await userRow(env, rogue.id)).toMatchObject({ role: 'nurse', isActive: true });
  });
});
