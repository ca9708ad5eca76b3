import type { Queue } from 'bullmq';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertDeps } from '../../server/alerts/change.js';
import { acknowledgeAlert, alertScope, cancelAlert, createAlert, escalateAlert, resolveAlert, updateAlert } from '../../server/alerts/service.js';
import { createAlertTimers } from '../../server/jobs/timers.js';
import type { Actor } from '../../server/permissions.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy } from '../support/worker.js';

// Issue 14 part 2: the timers do no BullMQ work that can never matter (a create removed three
// version-0 jobs), and still remove every job a change leaves pending. The queue is the real one on
// this file's Redis prefix, wrapped only to count the calls; what is left is read back from Redis.
let env: TestEnv;
let t: Tenants;
let deps: AlertDeps;
let queue: Queue;
const calls: { op: 'add' | 'remove'; id: string }[] = [];
const pending: Promise<unknown>[] = [];
const HOUR = 3_600;

beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'critical', [HOUR, HOUR], { ackTimeoutSeconds: HOUR });
  queue = env.deps.queues.timers;
  const counted = new Proxy(queue, {
    get(target, prop, receiver) {
      if (prop === 'remove') {
        return (id: string, ...rest: never[]) => {
          calls.push({ op: 'remove', id });
          return target.remove(id, ...rest);
        };
      }
      if (prop === 'add') {
        return (name: string, data: unknown, opts: { jobId: string }) => {
          calls.push({ op: 'add', id: opts.jobId });
          return target.add(name, data, opts);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const timers = createAlertTimers({ timers: counted }, env.deps.log);
  // afterChange runs after commit, unawaited: the test waits for it before reading Redis.
  deps = { ...env.deps, timers: { afterChange: (a) => track(timers.afterChange(a)) } };
});

function track<T>(p: Promise<T>): Promise<T> {
  pending.push(p);
  return p;
}

/** The BullMQ calls the changes made, once their timers have settled. */
async function callsOf(change: () => Promise<unknown>) {
  calls.length = 0;
  await change();
  await Promise.all(pending.splice(0));
  return { removed: calls.filter((c) => c.op === 'remove').map((c) => c.id), added: calls.filter((c) => c.op === 'add').map((c) => c.id) };
}

const actor = (account: 'operator' | 'nurse.icu'): Actor => t.user('general', account) as Actor;
const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: null, userAgent: 'test', sessionId: null });
const nurse = () => actor('nurse.icu');

async function raise(title: string, over: { expiresAt?: string } = {}) {
  const op = actor('operator');
  let id = '';
  const c = await callsOf(async () => {
    id = (await createAlert(deps, op, auditOf(op), { title, priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, ...over })).id;
  });
  return { id, ...c };
}

/** Which of these job ids are still in Redis (in any state). */
async function present(ids: string[]): Promise<string[]> {
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
  return ids.filter((_, i) => jobs[i]);
}

describe('alert timers (issue 14 part 2)', () => {
  it('a create issues no remove: there is no earlier version whose jobs could exist', async () => {
    const expiresAt = new Date(Date.now() + HOUR * 1000).toISOString();
    const a = await raise('Create only', { expiresAt });
    expect(a.removed).toEqual([]);
    expect(a.added.sort()).toEqual([`esc-${a.id}-0-1`, `exp-${a.id}`]);
    expect(await present([`esc-${a.id}-0-1`, `exp-${a.id}`])).toHaveLength(2);
  });

  it('acknowledge then resolve removes exactly the jobs left pending, and they are gone from Redis', async () => {
    const expiresAt = new Date(Date.now() + HOUR * 1000).toISOString();
    const a = await raise('Ack then resolve', { expiresAt });
    const ack = await callsOf(() => acknowledgeAlert(deps, nurse(), auditOf(nurse()), a.id));
    expect(ack.removed).toEqual([`esc-${a.id}-0-1`]);
    expect(await present([`esc-${a.id}-0-1`])).toEqual([]);
    expect(await present([`ack-${a.id}-2`, `exp-${a.id}`])).toEqual([`ack-${a.id}-2`, `exp-${a.id}`]);

    const resolved = await callsOf(() => resolveAlert(deps, nurse(), auditOf(nurse()), a.id));
    expect(resolved.removed.sort()).toEqual([`ack-${a.id}-2`, `exp-${a.id}`]);
    expect(resolved.added).toEqual([]);
    expect(await present([`esc-${a.id}-0-1`, `ack-${a.id}-2`, `exp-${a.id}`])).toEqual([]);
  });

  it('a correction of an acknowledged alert moves its acknowledgement timer to the new version', async () => {
    const a = await raise('Ack then correct');
    await callsOf(() => acknowledgeAlert(deps, nurse(), auditOf(nurse()), a.id));
    const upd = await callsOf(() => updateAlert(deps, nurse(), auditOf(nurse()), { alertId: a.id, title: 'Ack then corrected' }));
    expect(upd.removed).toEqual([`ack-${a.id}-2`]);
    expect(await present([`ack-${a.id}-2`, `ack-${a.id}-3`])).toEqual([`ack-${a.id}-3`]);
  });

  it('a manual escalation removes the previous level\'s timer and sets the next one', async () => {
    const a = await raise('Escalate by hand');
    const op = actor('operator');
    const esc = await callsOf(() => escalateAlert(deps, alertScope(op), auditOf(op), a.id, 'manual'));
    expect(esc.removed).toContain(`esc-${a.id}-0-1`);
    expect(await present([`esc-${a.id}-0-1`, `esc-${a.id}-1-2`])).toEqual([`esc-${a.id}-1-2`]);
    // Resolving straight from active (no acknowledgement before) removes the live escalation timer.
    const resolved = await callsOf(() => resolveAlert(deps, nurse(), auditOf(nurse()), a.id));
    expect(resolved.removed).toEqual([`esc-${a.id}-1-2`]);
    expect(await present([`esc-${a.id}-1-2`])).toEqual([]);
  });

  it('cancelling an alert with an expiry removes its escalation and expiry timers', async () => {
    const a = await raise('Cancel me', { expiresAt: new Date(Date.now() + HOUR * 1000).toISOString() });
    const op = actor('operator');
    const c = await callsOf(() => cancelAlert(deps, op, auditOf(op), a.id));
    expect(c.removed.sort()).toEqual([`esc-${a.id}-0-1`, `exp-${a.id}`]);
    expect(await present([`esc-${a.id}-0-1`, `exp-${a.id}`])).toEqual([]);
  });
});
