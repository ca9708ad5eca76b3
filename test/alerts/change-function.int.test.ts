import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDeps, ChangeResult } from '../../server/alerts/change.js';
import { selectAlertById } from '../../server/alerts/queries.js';
import type { Alert } from '../../server/alerts/schemas.js';
import {
  acknowledgeAlert,
  alertScope,
  cancelAlert,
  createAlert,
  declineAlert,
  escalateAlert,
  expireAlert,
  reopenAfterAckTimeout,
  resolveAlert,
  systemAudit,
  updateAlert,
} from '../../server/alerts/service.js';
import { verifyChain } from '../../server/audit/verify.js';
import { createDatabase } from '../../server/db/client.js';
import type { Actor } from '../../server/permissions.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Account, seedTenants, type Tenants } from '../support/tenants.js';

// Contract of clarion_change_alert (migrations/0011): every kind of state change answers the alert
// exactly as toAlert() reads it back, writes alert, escalation, event and audit rows in one statement
// or none of them, keeps event ids in commit order per hospital, and keeps the CONFLICT, NOT_FOUND and
// refused-change-audit behaviour of the transaction it replaced.
let env: TestEnv;
let t: Tenants;
let room = 100;
let counting: pg.Pool;
let statements = 0;
/**
 * The same service over a pool of its own that counts every statement: also a second instance, since
 * changes of one alert queue one behind the other only within one database handle.
 */
let counted: AlertDeps;
/** Alternates between the two handles, so concurrent changes of one alert race as on two instances. */
const instance = (i: number): AlertDeps => (i % 2 ? counted : env.deps);

beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
  counting = new pg.Pool({ connectionString: env.databaseUrl, max: 4 });
  counting.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements++;
      return query(...args);
    };
  });
  counted = { ...env.deps, db: createDatabase(counting) };
  // The default policy has no acknowledgement timeout; high alerts here get 600 s.
  await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,high}', '{"levelTimeoutsSeconds": [180, 300, 600], "ackTimeoutSeconds": 600}'::jsonb) WHERE id = ${t.hospital.general.id}`);
});
afterAll(async () => {
  await counting.end();
});

const user = (account: Account, slug: 'general' | 'riverside' = 'general'): Actor => t.user(slug, account) as Actor;
const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: '10.0.0.8', userAgent: 'change-contract', sessionId: null });
const op = () => user('operator');
const nurse = () => user('nurse.icu');
const hospitalId = () => t.hospital.general.id;
const sys = () => systemAudit(hospitalId());
const wholeHospital = () => ({ hospitalId: hospitalId(), departmentId: null });

const raise = (over: Partial<Parameters<typeof createAlert>[3]> = {}) =>
  createAlert(env.deps, op(), auditOf(op()), {
    title: `Change contract ${room}`,
    priority: 'high',
    alertType: 'medical',
    departmentId: t.hospital.general.departments.ICU,
    roomNumber: `R${room++}`,
    ...over,
  });

async function eventsOf(alertId: string) {
  const { rows } = await env.deps.db.execute<{ id: string; type: string; alert: unknown; actor_id: string | null; detail: unknown }>(
    sql`SELECT id::text, type::text, alert, actor_id, detail FROM alert_events WHERE alert_id = ${alertId} ORDER BY alert_events.id`,
  );
  return rows;
}

async function auditOfAlert(alertId: string) {
  const { rows } = await env.deps.db.execute<{ action: string; outcome: string; metadata: Record<string, unknown>; user_id: string | null; user_agent: string | null }>(
    sql`SELECT action, outcome::text, metadata, user_id, user_agent FROM audit_logs WHERE resource = 'alert' AND resource_id = ${alertId} ORDER BY seq`,
  );
  return rows;
}

async function escalationsOf(alertId: string) {
  const { rows } = await env.deps.db.execute<{ from_level: number; to_level: number; reason: string; escalated_by: string | null }>(
    sql`SELECT from_level, to_level, reason::text, escalated_by FROM alert_escalations WHERE alert_id = ${alertId} ORDER BY escalated_at, id`,
  );
  return rows;
}

/** The contract: the answer and its event's alert are exactly what toAlert() reads now; the audit row names the event. */
async function expectContract(alert: Alert, event?: ChangeResult['event']) {
  const read = await selectAlertById(env.deps.db, alert.id);
  expect(alert).toStrictEqual(read);
  const events = await eventsOf(alert.id);
  const last = events[events.length - 1];
  expect(last?.alert).toStrictEqual(read);
  if (event) expect(event).toStrictEqual({ id: last?.id, type: last?.type, alert: read, actorId: last?.actor_id, occurredAt: expect.any(String), detail: last?.detail ?? null });
  expect((await auditOfAlert(alert.id)).filter((x) => x.outcome === 'success').at(-1)?.metadata.eventId).toBe(last?.id);
  return events;
}

const ms = (iso: string | null) => Date.parse(iso as string);

/** Awaits a service call that must fail and returns its AppError code and message. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  return call.then(
    () => {
      throw new Error('expected the change to fail');
    },
    (err: { code: string; message: string }) => ({ code: err.code, message: err.message }),
  );
}

describe('clarion_change_alert: the alert JSON equals toAlert() for every kind of change', () => {
  it('acknowledge: timestamps from Postgres, the ack deadline counted from the same now()', async () => {
    const a = await raise();
    const acked = await acknowledgeAlert(env.deps, nurse(), auditOf(nurse()), a.id);
    expect(acked).toMatchObject({ status: 'acknowledged', version: 2, acknowledgedBy: nurse().id, acknowledgedByName: 'Nia ICU Nurse', nextEscalationAt: null });
    // One now() for the whole statement: a deadline computed on Node's clock would be off by the round trip.
    expect(acked.acknowledgedAt).toBe(acked.updatedAt);
    expect(ms(acked.ackDeadlineAt) - ms(acked.acknowledgedAt)).toBe(600_000);
    const events = await expectContract(acked);
    expect(events.map((e) => [e.type, e.actor_id, e.detail])).toEqual([
      ['created', op().id, null],
      ['acknowledged', nurse().id, null],
    ]);
    expect((await auditOfAlert(a.id)).at(-1)).toEqual({
      action: 'alert.acknowledged',
      outcome: 'success',
      metadata: { from: 'active', to: 'acknowledged', level: 0, eventId: events[1]?.id },
      user_id: nurse().id,
      user_agent: 'change-contract',
    });
  });

  it('resolve from active records who took it; resolve from acknowledged keeps the acknowledgement', async () => {
    const a = await raise();
    const resolved = await resolveAlert(env.deps, nurse(), auditOf(nurse()), a.id);
    expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: nurse().id, acknowledgedBy: nurse().id, ackDeadlineAt: null, nextEscalationAt: null });
    expect(resolved.resolvedAt).toBe(resolved.acknowledgedAt);
    await expectContract(resolved);

    const b = await raise();
    const acked = await acknowledgeAlert(env.deps, user('doctor.icu'), auditOf(user('doctor.icu')), b.id);
    const closed = await resolveAlert(env.deps, nurse(), auditOf(nurse()), b.id);
    expect(closed).toMatchObject({ acknowledgedBy: user('doctor.icu').id, acknowledgedAt: acked.acknowledgedAt, resolvedBy: nurse().id, resolvedByName: 'Nia ICU Nurse' });
    await expectContract(closed);
    expect((await auditOfAlert(b.id)).at(-1)?.metadata).toMatchObject({ from: 'acknowledged', to: 'resolved' });
  });

  it('cancel, manual escalation (with its escalation row) and a correction', async () => {
    const a = await raise({ priority: 'critical' });
    const up = await escalateAlert(env.deps, alertScope(op()), auditOf(op()), a.id, 'manual');
    expect(up?.alert).toMatchObject({ escalationLevel: 1, version: 2 });
    // Critical level 1 waits 120 s on the default policy, from the statement's now().
    expect(ms(up?.alert.nextEscalationAt as string) - ms(up?.alert.updatedAt as string)).toBe(120_000);
    await expectContract(up?.alert as Alert, up?.event);
    expect(await escalationsOf(a.id)).toEqual([{ from_level: 0, to_level: 1, reason: 'manual', escalated_by: op().id }]);
    expect((await auditOfAlert(a.id)).at(-1)?.metadata).toMatchObject({ from: 'active', to: 'active', level: 1, toLevel: 1, reason: 'manual' });

    const fixed = await updateAlert(env.deps, op(), auditOf(op()), { alertId: a.id, title: 'Corrected', description: '', roomNumber: 'X1' });
    expect(fixed).toMatchObject({ title: 'Corrected', description: null, roomNumber: 'X1', version: 3, nextEscalationAt: up?.alert.nextEscalationAt });
    expect((await expectContract(fixed)).at(-1)?.detail).toEqual({ changed: ['title', 'description', 'roomNumber'] });

    const cancelled = await cancelAlert(env.deps, op(), auditOf(op()), a.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: op().id, nextEscalationAt: null });
    expect(cancelled.cancelledAt).toBe(cancelled.updatedAt);
    await expectContract(cancelled);
  });

  it('a priority correction counts the new deadline from when the level was reached (in SQL), due now if past', async () => {
    const a = await raise({ priority: 'medium' });
    await escalateAlert(env.deps, alertScope(op()), auditOf(op()), a.id, 'manual');
    await env.deps.db.execute(sql`UPDATE alert_escalations SET escalated_at = now() - interval '10 seconds' WHERE alert_id = ${a.id}`);
    const raised = await updateAlert(env.deps, op(), auditOf(op()), { alertId: a.id, priority: 'high' });
    await expectContract(raised);
    // high level 1 is 300 s, from the escalation 10 s ago.
    expect((ms(raised.nextEscalationAt) - Date.now()) / 1000).toBeCloseTo(290, -1);

    await env.deps.db.execute(sql`UPDATE alert_escalations SET escalated_at = now() - interval '1 hour' WHERE alert_id = ${a.id}`);
    const due = await updateAlert(env.deps, op(), auditOf(op()), { alertId: a.id, priority: 'critical' });
    await expectContract(due);
    expect(due.nextEscalationAt).toBe(due.updatedAt);
  });

  it('decline escalates at once; a timer escalation; one that finds the policy shortened stops instead', async () => {
    const a = await raise({ priority: 'medium' });
    const declined = await declineAlert(env.deps, nurse(), auditOf(nurse()), a.id, 'In theatre');
    expect(declined).toMatchObject({ status: 'active', escalationLevel: 1 });
    const events = await expectContract(declined);
    expect(events.slice(-2).map((e) => [e.type, e.detail])).toEqual([
      ['declined', { reason: 'In theatre' }],
      ['escalated', { reason: 'declined' }],
    ]);
    expect((await auditOfAlert(a.id)).at(-1)?.metadata).toEqual({ from: 'active', to: 'active', level: 1, toLevel: 1, reason: 'In theatre', eventId: events.at(-1)?.id });

    const timer = await escalateAlert(env.deps, wholeHospital(), sys(), a.id, 'timeout', { escalationLevel: 1, version: declined.version });
    expect(timer?.event).toMatchObject({ type: 'escalated', actorId: null, detail: { reason: 'timeout' } });
    await expectContract(timer?.alert as Alert, timer?.event);
    expect((await escalationsOf(a.id)).map((e) => [e.to_level, e.reason, e.escalated_by])).toEqual([
      [1, 'declined', nurse().id],
      [2, 'timeout', null],
    ]);
    // A stale timer is a silent no-op.
    expect(await escalateAlert(env.deps, wholeHospital(), sys(), a.id, 'timeout', { escalationLevel: 1, version: declined.version })).toBeNull();

    await env.deps.db.execute(sql`UPDATE alerts SET escalation_level = 9 WHERE id = ${a.id}`);
    const row = await selectAlertById(env.deps.db, a.id);
    const stopped = await escalateAlert(env.deps, wholeHospital(), sys(), a.id, 'timeout', { escalationLevel: 9, version: row?.version as number });
    expect(stopped?.alert).toMatchObject({ escalationLevel: 9, nextEscalationAt: null });
    expect(stopped?.event).toMatchObject({ type: 'updated', detail: { changed: ['nextEscalationAt'], reason: 'at_or_above_policy_top_level' } });
    await expectContract(stopped?.alert as Alert, stopped?.event);
    expect((await auditOfAlert(a.id)).at(-1)).toMatchObject({ action: 'alert.escalation_stopped', metadata: { reason: 'at_or_above_policy_top_level', topLevel: 2 } });
  });

  it('reopen after the ack timeout and expiry (worker changes)', async () => {
    const a = await raise({ priority: 'critical' });
    const acked = await acknowledgeAlert(env.deps, nurse(), auditOf(nurse()), a.id);
    await env.deps.db.execute(sql`UPDATE alerts SET ack_deadline_at = now() - interval '1 second' WHERE id = ${a.id}`);
    const reopened = await reopenAfterAckTimeout(env.deps, hospitalId(), a.id, acked.version);
    expect(reopened?.alert).toMatchObject({ status: 'active', acknowledgedBy: null, acknowledgedAt: null, acknowledgedByName: null, ackDeadlineAt: null, escalationLevel: 1 });
    const events = await expectContract(reopened?.alert as Alert, reopened?.event);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['reopened', 'escalated']);
    expect(await escalationsOf(a.id)).toEqual([{ from_level: 0, to_level: 1, reason: 'ack_timeout', escalated_by: null }]);

    const b = await raise({ expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await env.deps.db.execute(sql`UPDATE alerts SET expires_at = now() - interval '1 second' WHERE id = ${b.id}`);
    const expired = await expireAlert(env.deps, hospitalId(), b.id);
    expect(expired?.alert).toMatchObject({ status: 'resolved', resolvedBy: null });
    await expectContract(expired?.alert as Alert, expired?.event);
  });

  it('settings changed behind the cache are used at once (the function refuses the stale copy)', async () => {
    await acknowledgeAlert(env.deps, nurse(), auditOf(nurse()), (await raise()).id);
    // Raised before the settings change: a raise after it would refresh the shared cache itself.
    const b = await raise();
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,high,ackTimeoutSeconds}', '77'::jsonb) WHERE id = ${hospitalId()}`);
    try {
      const acked = await acknowledgeAlert(env.deps, nurse(), auditOf(nurse()), b.id);
      expect(ms(acked.ackDeadlineAt) - ms(acked.acknowledgedAt)).toBe(77_000);
    } finally {
      await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,high,ackTimeoutSeconds}', '600'::jsonb) WHERE id = ${hospitalId()}`);
    }
  });
});

describe('one statement, all or nothing', () => {
  it('a change is two statements: the unlocked read and the function (no BEGIN, no COMMIT)', async () => {
    const a = await raise();
    const b = await raise();
    await acknowledgeAlert(counted, nurse(), auditOf(nurse()), b.id); // the first change on this pool loads the settings cache
    statements = 0;
    await acknowledgeAlert(counted, nurse(), auditOf(nurse()), a.id);
    expect(statements).toBe(2);
    statements = 0;
    await resolveAlert(counted, nurse(), auditOf(nurse()), a.id);
    expect(statements).toBe(2);
    // A refusal: the read, then its failure audit row.
    statements = 0;
    expect((await refusal(resolveAlert(counted, nurse(), auditOf(nurse()), a.id))).code).toBe('CONFLICT');
    expect(statements).toBe(2);
  });

  it('a failure in the audit tail leaves the alert, its escalation and its events untouched', async () => {
    const a = await raise({ priority: 'medium' });
    await env.deps.db.execute(sql.raw(`CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.metadata->>'reason' = 'refuse-the-audit' THEN RAISE EXCEPTION 'audit refused by the test'; END IF; RETURN NEW; END $$`));
    await env.deps.db.execute(sql.raw('CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()'));
    try {
      const before = { alert: await selectAlertById(env.deps.db, a.id), events: await eventsOf(a.id), audit: await auditOfAlert(a.id) };
      await expect(declineAlert(env.deps, nurse(), auditOf(nurse()), a.id, 'refuse-the-audit')).rejects.toMatchObject({ cause: { message: 'audit refused by the test' } });
      expect({ alert: await selectAlertById(env.deps.db, a.id), events: await eventsOf(a.id), audit: await auditOfAlert(a.id) }).toStrictEqual(before);
      expect(await escalationsOf(a.id)).toEqual([]);
    } finally {
      await env.deps.db.execute(sql.raw('DROP TRIGGER test_refuse_audit ON audit_logs; DROP FUNCTION test_refuse_audit()'));
    }
  });

  it('the function refuses a row that is not the one read: other version, status, hospital or department (CLR03), writing nothing', async () => {
    const a = await raise();
    const call = (over: Record<string, unknown>) =>
      env.deps.db.execute(sql`SELECT clarion_change_alert(${JSON.stringify({
        alertId: a.id,
        hospitalId: hospitalId(),
        departmentId: null,
        version: 1,
        from: ['active'],
        set: { title: 'Should not stick' },
        escalation: null,
        events: [{ type: 'updated' }],
        action: 'alert.updated',
        metadata: {},
        audit: auditOf(op()),
        ...over,
      })}::jsonb)`);
    const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { cause?: { code?: string }; code?: string }) => e.cause?.code ?? e.code);
    expect(await codeOf(call({ version: 2 }))).toBe('CLR03');
    expect(await codeOf(call({ from: ['acknowledged'] }))).toBe('CLR03');
    expect(await codeOf(call({ hospitalId: t.hospital.riverside.id }))).toBe('CLR03');
    expect(await codeOf(call({ departmentId: t.hospital.general.departments.ER }))).toBe('CLR03');
    expect(await codeOf(call({ settingsHash: 'not-the-hash' }))).toBe('CLR02');
    expect(await selectAlertById(env.deps.db, a.id)).toStrictEqual((({ deduplicated: _d, priorityRaisedFrom: _p, ...rest }) => rest)(a));
    expect((await eventsOf(a.id)).length).toBe(1);
  });
});

describe('scope and conflicts', () => {
  it("another hospital's or department's alert is NOT_FOUND, and nothing is written", async () => {
    const a = await raise();
    const before = { events: await eventsOf(a.id), audit: await auditOfAlert(a.id) };
    for (const actor of [user('operator', 'riverside'), user('nurse.icu', 'riverside'), user('nurse.er')]) {
      const err = await refusal(acknowledgeAlert(env.deps, actor, auditOf(actor), a.id));
      expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'Alert not found' });
    }
    const timer = await refusal(escalateAlert(env.deps, { hospitalId: t.hospital.riverside.id, departmentId: null }, sys(), a.id, 'timeout', { escalationLevel: 0, version: 1 }));
    expect(timer.code).toBe('NOT_FOUND');
    expect({ events: await eventsOf(a.id), audit: await auditOfAlert(a.id) }).toStrictEqual(before);
  });

  it('10 concurrent acknowledges: exactly one wins, the others are CONFLICT with a failure audit row each', async () => {
    const a = await raise();
    const actors = Array.from({ length: 10 }, (_, i) => (i % 2 ? nurse() : user('doctor.icu')));
    const results = await Promise.allSettled(actors.map((x, i) => acknowledgeAlert(instance(i), x, auditOf(x), a.id)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT', message: 'The alert is already acknowledged' });
    }
    const audit = await auditOfAlert(a.id);
    expect(audit.filter((x) => x.action === 'alert.acknowledged').map((x) => x.outcome).sort()).toEqual(['success', ...Array(9).fill('failure')].sort());
    expect((await eventsOf(a.id)).map((e) => e.type)).toEqual(['created', 'acknowledged']);
    await expectContract((won[0] as PromiseFulfilledResult<Alert>).value);
  });

  it('6 concurrent corrections of one alert on two instances all apply: a row that moved on is read again', async () => {
    const a = await raise();
    const done = await Promise.all(Array.from({ length: 6 }, (_, i) => updateAlert(instance(i), op(), auditOf(op()), { alertId: a.id, title: `Correction ${i}` })));
    expect(done.map((x) => x.version).sort()).toEqual([2, 3, 4, 5, 6, 7]);
    const last = done.find((x) => x.version === 7) as Alert;
    await expectContract(last);
    expect((await eventsOf(a.id)).map((e) => (e.alert as Alert).version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a timer escalation racing an acknowledge never applies after it', async () => {
    for (let i = 0; i < 25; i++) {
      const a = await raise({ priority: 'critical' });
      const [acked, timer] = await Promise.allSettled([
        acknowledgeAlert(env.deps, nurse(), auditOf(nurse()), a.id),
        // The worker is another process: its change does not queue behind the acknowledgement.
        escalateAlert(counted, wholeHospital(), sys(), a.id, 'timeout', { escalationLevel: 0, version: 1 }),
      ]);
      expect(acked.status).toBe('fulfilled');
      expect(timer.status).toBe('fulfilled');
      const types = (await eventsOf(a.id)).map((e) => e.type);
      const final = await selectAlertById(env.deps.db, a.id);
      // Either the timer lost (a no-op) or it escalated first and the acknowledgement followed.
      if ((timer as PromiseFulfilledResult<ChangeResult | null>).value === null) {
        expect(types).toEqual(['created', 'acknowledged']);
        expect(final).toMatchObject({ status: 'acknowledged', escalationLevel: 0, version: 2 });
      } else {
        expect(types).toEqual(['created', 'escalated', 'acknowledged']);
        expect(final).toMatchObject({ status: 'acknowledged', escalationLevel: 1, version: 3 });
      }
      expect((acked as PromiseFulfilledResult<Alert>).value).toStrictEqual(final);
    }
  }, 60_000);
});

describe('order and chain', () => {
  it('150 concurrent mixed changes in one hospital on two instances: event ids commit in id order and the audit chain verifies', async () => {
    const open = await Promise.all(Array.from({ length: 30 }, () => raise({ priority: 'critical' })));
    const seen: number[] = [];
    let done = false;
    const readNew = async () => {
      const { rows } = await env.deps.db.execute<{ id: string }>(sql`SELECT id::text FROM alert_events WHERE hospital_id = ${hospitalId()} AND id > ${seen.at(-1) ?? 0} ORDER BY alert_events.id`);
      seen.push(...rows.map((r) => Number(r.id)));
    };
    await readNew();
    const from = seen.at(-1) ?? 0;
    const poll = (async () => {
      while (!done) await readNew();
    })();
    const doctor = user('doctor.icu');
    // Two instances, the worker's escalation on the other one.
    const changes = open.flatMap((a, i) => [
      () => acknowledgeAlert(instance(i), nurse(), auditOf(nurse()), a.id),
      () => updateAlert(instance(i + 1), op(), auditOf(op()), { alertId: a.id, title: `Mixed ${i}`, priority: i % 2 ? 'high' : 'critical' }),
      () => escalateAlert(counted, wholeHospital(), sys(), a.id, 'timeout', { escalationLevel: 0, version: 1 }),
      () => declineAlert(instance(i), doctor, auditOf(doctor), a.id, 'Busy'),
      () => (i % 3 ? resolveAlert(instance(i + 1), doctor, auditOf(doctor), a.id) : cancelAlert(instance(i + 1), op(), auditOf(op()), a.id)),
    ]);
    const results = await Promise.allSettled(changes.map((change) => change()));
    done = true;
    await poll;
    await readNew();
    // Refusals are the rules' own (already resolved, not active any more), never a lost race or a crash.
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/^The alert is already /) });
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(30);

    const { rows: all } = await env.deps.db.execute<{ id: string }>(sql`SELECT id::text FROM alert_events WHERE hospital_id = ${hospitalId()} AND id > ${from} ORDER BY alert_events.id`);
    expect(seen.filter((id) => id > from)).toEqual(all.map((r) => Number(r.id)));
    const { rows } = await env.deps.db.execute<{ event_id: string }>(
      sql`SELECT metadata->>'eventId' AS event_id FROM audit_logs WHERE hospital_id = ${hospitalId()} AND outcome = 'success' AND resource_id IN ${open.map((a) => a.id)} AND action <> 'alert.created' ORDER BY seq`,
    );
    const ids = rows.map((r) => Number(r.event_id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    for (const a of open) {
      const read = await selectAlertById(env.deps.db, a.id);
      expect((await eventsOf(a.id)).at(-1)?.alert).toStrictEqual(read);
    }
    expect(await verifyChain(env.deps.db, hospitalId())).toMatchObject({ verified: true });
  }, 60_000);
});
