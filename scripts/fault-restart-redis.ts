// Fault: restart the (private) Redis while alerts are being raised. Redis runs without persistence, so
// the restart also loses every BullMQ job: escalations must still happen (the sweeper), exactly once, and
// every event must still reach every board (Postgres is the record; Redis only wakes instances up).
import { apiClient, log, type Stack, sleep, startServersWithBoards, waitForDelivery } from './fault-lib.js';
import { escalationTally } from './fault-kill-worker.js';

export async function restartRedis(stack: Stack, opts: { subscribers: number; alerts: number; downMs: number }) {
  const { a, b, worker, start, subs } = await startServersWithBoards(stack, opts.subscribers);
  const operator = apiClient(a.url, await stack.token('operator@general.test'));
  const created: string[] = [];
  let failed = 0;
  let duringOutage = 0;
  let outage = false;
  log(`restart-redis: raising ${opts.alerts} critical alerts (escalating every 2 s); Redis down for ${opts.downMs} ms in the middle`);
  for (let i = 0; i < opts.alerts; i++) {
    if (i === Math.floor(opts.alerts / 3)) {
      outage = true;
      await stack.redis.stop();
      log('restart-redis: Redis stopped');
      setTimeout(() => {
        void stack.redis.start().then(() => {
          outage = false;
          log('restart-redis: Redis started again (empty)');
        });
      }, opts.downMs);
    }
    const started = Date.now();
    const r = await operator.alerts.create
      .mutate({ title: `fault restart-redis ${i}`, priority: 'critical', alertType: 'fault', departmentId: stack.departmentIds[i % stack.departmentIds.length] as string, roomNumber: `R${i}` } as never)
      .catch(() => null);
    if (r) created.push((r as { id: string }).id);
    else failed++;
    if (outage) duringOutage++;
    if (Date.now() - started > 2_000) log(`restart-redis: a create took ${Date.now() - started} ms`);
    await sleep(100);
  }
  while (outage) await sleep(100);
  const esc = await escalationTally(stack, created, 3, 30_000);
  const t = await waitForDelivery(stack.pool, stack.hospitalId, start, subs, 20_000);
  for (const s of subs) s.close();
  await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM'), worker.kill('SIGTERM')]);
  return { scenario: 'restart Redis (no persistence) while raising alerts', subscribers: opts.subscribers, alertsRaised: created.length, createFailures: failed, createsDuringOutage: duringOutage, ...esc, ...t };
}
