// Fault: SIGKILL the worker in the middle of escalations, restart it a few seconds later. Every alert
// must still climb every level exactly once (guarded UPDATE + deterministic job ids + the sweeper).
import { apiClient, freePort, lastEventId, log, Proc, type Stack, type Subscriber, sleep, subscribe, waitForDelivery } from './fault-lib.js';

/** Waits until every alert reached `levels`, then counts escalations per (alert, level). */
export async function escalationTally(stack: Stack, alertIds: string[], levels: number, ms: number) {
  const deadline = Date.now() + ms;
  const query = () =>
    stack.pool.query<{ alert_id: string; to_level: number; n: number }>(
      'SELECT alert_id, to_level, count(*)::int AS n FROM alert_escalations WHERE alert_id = ANY($1) GROUP BY 1, 2',
      [alertIds],
    );
  let rows = (await query()).rows;
  while (new Set(rows.map((r) => `${r.alert_id}:${r.to_level}`)).size < alertIds.length * levels && Date.now() < deadline) {
    await sleep(250);
    rows = (await query()).rows;
  }
  const happened = rows.length;
  return {
    escalationsExpected: alertIds.length * levels,
    escalationsHappened: happened,
    escalationsDuplicated: rows.reduce((s, r) => s + (r.n - 1), 0),
    escalationsMissing: alertIds.length * levels - happened,
  };
}

export async function killWorker(stack: Stack, opts: { subscribers: number; alerts: number; downMs: number }) {
  const server = new Proc('server', stack.env, await freePort());
  const worker = new Proc('worker', stack.env);
  await Promise.all([server.start(), worker.start()]);
  const start = await lastEventId(stack.pool, stack.hospitalId);
  const subs: Subscriber[] = await Promise.all(Array.from({ length: opts.subscribers }, async () => subscribe(() => server.wsUrl, await stack.token('head@general.test'), start)));
  await sleep(1_000);
  const operator = apiClient(server.url, await stack.token('operator@general.test'));
  const created: string[] = [];
  log(`kill-worker: raising ${opts.alerts} critical alerts (escalating every 2 s), SIGKILL of the worker as the first escalations run`);
  for (let i = 0; i < opts.alerts; i++) {
    const r = await operator.alerts.create.mutate({ title: `fault kill-worker ${i}`, priority: 'critical', alertType: 'fault', departmentId: stack.departmentIds[i % stack.departmentIds.length] as string, roomNumber: `W${i}` } as never);
    created.push((r as { id: string }).id);
  }
  // The first escalations are due 2 s after creation: kill as they run.
  await sleep(2_050);
  const { rows } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_escalations WHERE alert_id = ANY($1)', [created]);
  await worker.kill('SIGKILL');
  log(`kill-worker: worker SIGKILLed with ${rows[0]?.n ?? 0} of ${opts.alerts * 3} escalations done; restarting in ${opts.downMs} ms`);
  await sleep(opts.downMs);
  const again = new Proc('worker', stack.env);
  await again.start();
  const esc = await escalationTally(stack, created, 3, 30_000);
  const t = await waitForDelivery(stack.pool, stack.hospitalId, start, subs, 15_000);
  for (const s of subs) s.close();
  await Promise.all([server.kill('SIGTERM'), again.kill('SIGTERM')]);
  return { scenario: 'SIGKILL the worker mid-escalation', subscribers: opts.subscribers, alertsRaised: created.length, escalationsBeforeKill: rows[0]?.n ?? 0, ...esc, ...t };
}
