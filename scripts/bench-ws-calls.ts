// npx tsx scripts/bench-ws-calls.ts [--calls 5000]
// The request path of one call over a long-lived socket: a board's alerts.getActive, sequentially over
// one WebSocket client against an in-process server (fresh seeded database), once with the session
// cache and once with it off (TTL 0, the old re-read on every call). Prints per call: wall time,
// process CPU (server and client together: both are in this process) and Postgres queries.
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { eq } from 'drizzle-orm';
import { WebSocket } from 'ws';
import { SessionCache } from '../server/auth/session-cache.js';
import { createSession } from '../server/auth/sessions.js';
import { loadConfig } from '../server/config.js';
import { withDatabase } from '../server/db/admin.js';
import { users } from '../server/db/schema.js';
import { closeDeps, createDeps } from '../server/deps.js';
import { createApp } from '../server/http/app.js';
import { createLogger } from '../server/logger.js';
import type { AppRouter } from '../server/router.js';
import { seedDevelopment } from '../server/seed/dev.js';
import { freshDatabase } from '../load-tests/harness/setup.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000' } } });
const CALLS = Number(values.calls);

async function main() {
  const base = loadConfig({ ...process.env, CLARION_ENV: 'development' });
  const url = withDatabase(base.database.url, 'clarion_bench_ws_calls');
  await freshDatabase(url);
  const config = loadConfig({ ...process.env, CLARION_ENV: 'development', DATABASE_URL: url, REDIS_KEY_PREFIX: `bench_ws_${Date.now()}`, LOG_LEVEL: 'warn' });
  const deps = createDeps(config, createLogger(config));
  const app = createApp(deps);
  try {
    await seedDevelopment(deps);
    const [u] = await deps.db.select().from(users).where(eq(users.email, 'nurse.icu@general.test'));
    const { token } = await createSession(deps.db, { userId: u!.id, hospitalId: u!.hospitalId, hours: 1, ip: null, userAgent: 'bench', twoFactorVerified: true });
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    const { port } = app.server.address() as AddressInfo;
    const wsClient = createWSClient({ url: `ws://127.0.0.1:${port}/trpc`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, connectionParams: () => ({ token }) });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    const queries = async () => (await deps.metrics.queryDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;

    const run = async (label: string) => {
      for (let i = 0; i < 200; i++) await client.alerts.getActive.query(); // warm-up
      const q0 = await queries();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) await client.alerts.getActive.query();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const perCall = { wallUs: (ms * 1000) / CALLS, cpuUs: (cpu.user + cpu.system) / CALLS, queries: ((await queries()) - q0) / CALLS };
      console.log(`${label}: ${perCall.wallUs.toFixed(0)} µs wall, ${perCall.cpuUs.toFixed(0)} µs CPU (server + client), ${perCall.queries.toFixed(2)} queries per call`);
    };
    const cache = deps.sessionCache;
    deps.sessionCache = new SessionCache(0);
    await run('session cache off');
    deps.sessionCache = cache;
    await run('session cache on ');
    wsClient.close();
  } finally {
    await app.close();
    await closeDeps(deps);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
