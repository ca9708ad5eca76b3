// Fault: restart Postgres (a private cluster, `pg_ctl stop -m fast` then start) while the servers take
// traffic. Meanwhile every answer must be a clean error (a JSON error or 503, never a hang or a crash);
// afterwards the same processes recover without a restart and every committed event is delivered.
import { apiClient, log, type Stack, sleep, startServersWithBoards, waitForDelivery } from './fault-lib.js';

export async function restartPostgres(stack: Stack, opts: { subscribers: number; downMs: number; durationMs: number }) {
  const { a, b, worker, start, subs } = await startServersWithBoards(stack, opts.subscribers);
  const operator = apiClient(b.url, await stack.token('operator@general.test'));
  const statuses: Record<string, number> = {};
  let slowest = 0;
  let created = 0;
  let createFailed = 0;
  let down = false;
  const probe = async (path: string) => {
    const t0 = Date.now();
    const res = await fetch(`${a.url}${path}`, { signal: AbortSignal.timeout(10_000) }).catch((e) => ({ status: `fetch-error:${(e as Error).name}` }) as const);
    slowest = Math.max(slowest, Date.now() - t0);
    const key = `${down ? 'down' : 'up'} ${path.split('?')[0]} ${res.status}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  log(`restart-postgres: traffic for ${opts.durationMs} ms; Postgres stopped for ${opts.downMs} ms after 2 s`);
  const began = Date.now();
  const stopAt = began + 2_000;
  let restarted = false;
  while (Date.now() - began < opts.durationMs) {
    if (!down && !restarted && Date.now() >= stopAt) {
      down = true;
      stack.pg.stop('fast');
      log('restart-postgres: Postgres stopped');
      setTimeout(() => {
        void stack.pg.start().then(() => {
          down = false;
          restarted = true;
          log('restart-postgres: Postgres started');
        });
      }, opts.downMs);
    }
    await Promise.all([
      probe('/readyz'),
      probe('/trpc/health.check'),
      operator.alerts.create
        .mutate({ title: 'fault restart-postgres', priority: 'high', alertType: 'fault', departmentId: stack.departmentIds[0] as string, roomNumber: `P${Date.now()}` } as never)
        .then(
          () => created++,
          (err: { data?: { code?: string; httpStatus?: number } }) => {
            createFailed++;
            const key = `${down ? 'down' : 'up'} alerts.create ${err.data?.httpStatus ?? '?'} ${err.data?.code ?? 'no-code'}`;
            statuses[key] = (statuses[key] ?? 0) + 1;
          },
        ),
    ]);
    await sleep(150);
  }
  while (down) await sleep(100);
  // The same processes, no restart: ready again?
  const recoveredIn = Date.now();
  let ready = false;
  while (!ready && Date.now() - recoveredIn < 20_000) {
    ready = (await fetch(`${a.url}/readyz`)).ok && (await fetch(`${b.url}/readyz`)).ok;
    if (!ready) await sleep(200);
  }
  const t = await waitForDelivery(stack.pool, stack.hospitalId, start, subs, 20_000);
  for (const s of subs) s.close();
  await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM'), worker.kill('SIGTERM')]);
  return { scenario: 'restart Postgres (private cluster, pg_ctl stop -m fast / start)', subscribers: opts.subscribers, alertsRaised: created, createFailures: createFailed, answers: statuses, slowestAnswerMs: slowest, readyAgainAfterMs: Date.now() - recoveredIn, recoveredWithoutRestart: ready, ...t };
}
