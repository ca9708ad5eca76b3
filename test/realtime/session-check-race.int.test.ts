import { EventEmitter } from 'node:events';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../server/auth/sessions.js';
import type { ControlMessage } from '../../server/realtime/control.js';
import { type SocketIdentity, SocketRegistry } from '../../server/realtime/sockets.js';
import type { Role } from '../../server/permissions.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Account, seedTenants, type Tenants } from '../support/tenants.js';

// The periodic re-read of every socket's session runs while sockets keep binding. A socket that
// bound while the re-read was in flight is not in its answer, and must not be taken for a session
// that ended: under load (a slow re-read, boards still connecting) that closed live boards with
// "Your session has ended" and lost their deliveries (issue 14's 2,000-subscriber run).

class FakeSocket extends EventEmitter {
  closedWith: { code: number; reason: string } | undefined;
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.emit('close');
  }
}

let env: TestEnv;
let t: Tenants;
beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
});

async function identityOf(account: Account): Promise<SocketIdentity> {
  const u = t.user('general', account);
  const { sessionId } = await createSession(env.deps.db, { userId: u.id, hospitalId: u.hospitalId, hours: 1, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
  return { sessionId, userId: u.id, hospitalId: u.hospitalId, role: u.role as Role, departmentId: u.departmentId };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('socket session re-check', () => {
  it('keeps a socket that bound while the re-check was reading sessions', async () => {
    const ended: ControlMessage[] = [];
    const limits = { ...env.config.limits.sockets, checkIntervalMs: 25 };
    const registry: SocketRegistry = new SocketRegistry(env.deps, limits, (msg) => {
      ended.push(msg);
      registry.onControl(msg);
    });
    const early = new FakeSocket();
    registry.accept(early as never, '127.0.0.1');
    expect(registry.bind(early as never, await identityOf('nurse.icu'))).toBeNull();
    const late = await identityOf('doctor.icu');

    // Hold the re-check's read of sessions behind a lock, so a socket can bind while it waits.
    const locker = new pg.Client({ connectionString: env.databaseUrl });
    await locker.connect();
    afterAll(async () => {
      registry.stop();
      await locker.end();
    });
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE');
    registry.start();
    for (let i = 0; i < 100; i++) {
      const { rows } = await locker.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%from "sessions"%'`);
      if (rows[0].n > 0) break;
      await sleep(20);
    }
    const bound = new FakeSocket();
    registry.accept(bound as never, '127.0.0.1');
    expect(registry.bind(bound as never, late)).toBeNull();
    await locker.query('COMMIT');

    // Several rounds of the re-check, now that nothing holds it up.
    await sleep(400);
    expect(ended).toEqual([]);
    expect(bound.closedWith).toBeUndefined();
    expect(early.closedWith).toBeUndefined();

    // The re-check still ends a session that did end.
    await env.deps.db.execute(sql`UPDATE sessions SET revoked_at = now() WHERE id = ${late.sessionId}`);
    for (let i = 0; i < 50 && !bound.closedWith; i++) await sleep(20);
    await sleep(100);
    expect(bound.closedWith?.code).toBe(4401);
    expect(early.closedWith).toBeUndefined();
  });
});
