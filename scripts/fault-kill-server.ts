// Fault: SIGKILL one of two server instances while 200 boards are subscribed. Their clients' url is a
// function that returns a live instance, so they reconnect to the other one and resume from the last
// tracked event id: nothing may be lost or delivered twice.
import { apiClient, freePort, lastEventId, log, Proc, type Stack, type Subscriber, sleep, subscribe, waitForDelivery } from './fault-lib.js';

export async function killServer(stack: Stack, opts: { subscribers: number; alerts: number }) {
  const a = new Proc('server', stack.env, await freePort());
  const b = new Proc('server', stack.env, await freePort());
  await Promise.all([a.start(), b.start()]);
  let killed = false;
  let connects = 0;
  const url = () => {
    connects++;
    // Round-robin while both are up; only the survivor after the kill.
    return killed || connects % 2 === 0 ? b.wsUrl : a.wsUrl;
  };
  const start = await lastEventId(stack.pool, stack.hospitalId);
  const tokens = await Promise.all(Array.from({ length: opts.subscribers }, (_, i) => stack.token(i % 2 ? 'head@general.test' : 'admin@general.test')));
  const subs: Subscriber[] = tokens.map((t) => subscribe(url, t, start));
  await sleep(2_000);
  const onKilled = Math.ceil(opts.subscribers / 2);
  const operator = apiClient(b.url, await stack.token('operator@general.test'));
  let failed = 0;
  log(`kill-server: ${opts.subscribers} subscribers on 2 instances; raising ${opts.alerts} alerts, SIGKILL of one instance halfway`);
  for (let i = 0; i < opts.alerts; i++) {
    if (i === Math.floor(opts.alerts / 2)) {
      killed = true;
      await a.kill('SIGKILL');
      log(`kill-server: SIGKILLed the instance on :${a.port}`);
    }
    await operator.alerts.create
      .mutate({ title: `fault kill-server ${i}`, priority: 'high', alertType: 'fault', departmentId: stack.departmentIds[i % stack.departmentIds.length] as string, roomNumber: `K${i}` } as never)
      .catch(() => failed++);
    await sleep(50);
  }
  const t = await waitForDelivery(stack.pool, stack.hospitalId, start, subs, 30_000);
  for (const s of subs) s.close();
  await b.kill('SIGTERM');
  return { scenario: 'SIGKILL one of two servers', subscribers: opts.subscribers, reconnectedFromKilled: onKilled, reconnects: connects - opts.subscribers, alertsRaised: opts.alerts - failed, createFailures: failed, ...t };
}
