// npm run fault [-- kill-server restart-redis kill-worker restart-postgres] [--subscribers 200] [--json]
// Fault injection against a private Postgres cluster and a private Redis (never the machine's shared
// ones). Each scenario reports events expected / received / duplicated / lost (and escalations where
// they matter); exits 1 when anything was lost or duplicated. Results: reports/fault-injection.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { killServer } from './fault-kill-server.js';
import { killWorker } from './fault-kill-worker.js';
import { createStack, log, ROOT } from './fault-lib.js';
import { restartPostgres } from './fault-restart-postgres.js';
import { restartRedis } from './fault-restart-redis.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { subscribers: { type: 'string', default: '200' } } });
const subscribers = Number(values.subscribers);
const all = ['kill-server', 'restart-redis', 'kill-worker', 'restart-postgres'];
const chosen = positionals.length ? positionals : all;

const results: Record<string, unknown>[] = [];
let bad = false;
for (const name of chosen) {
  const stack = await createStack();
  try {
    const r =
      name === 'kill-server'
        ? await killServer(stack, { subscribers, alerts: 60 })
        : name === 'restart-redis'
          ? await restartRedis(stack, { subscribers: Math.min(subscribers, 50), alerts: 40, downMs: 3_000 })
          : name === 'kill-worker'
            ? await killWorker(stack, { subscribers: Math.min(subscribers, 30), alerts: 20, downMs: 3_000 })
            : name === 'restart-postgres'
              ? await restartPostgres(stack, { subscribers: Math.min(subscribers, 30), downMs: 3_000, durationMs: 8_000 })
              : null;
    if (!r) throw new Error(`unknown scenario ${name}; choose from ${all.join(', ')}`);
    const ok = r.lost === 0 && r.duplicated === 0 && (!('escalationsMissing' in r) || (r.escalationsMissing === 0 && r.escalationsDuplicated === 0));
    bad ||= !ok;
    results.push({ name, ok, ...r });
    log(`${name}: ${ok ? 'OK' : 'FAILED'} ${JSON.stringify(r)}`);
  } catch (err) {
    bad = true;
    results.push({ name, ok: false, error: err instanceof Error ? err.message : String(err) });
    log(`${name}: ERROR ${err instanceof Error ? err.stack : err}`);
  } finally {
    await stack.close();
  }
}

mkdirSync(`${ROOT}reports`, { recursive: true });
writeFileSync(`${ROOT}reports/fault-injection.json`, `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
console.log('\n| scenario | expected | received | duplicated | lost | notes |\n|---|---|---|---|---|---|');
for (const r of results as Record<string, unknown>[]) {
  const notes = Object.entries(r)
    .filter(([k]) => !['name', 'ok', 'scenario', 'expected', 'received', 'duplicated', 'lost'].includes(k))
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join('; ');
  console.log(`| ${r.scenario ?? r.name} | ${r.expected ?? '—'} | ${r.received ?? '—'} | ${r.duplicated ?? '—'} | ${r.lost ?? '—'} | ${notes} |`);
}
process.exit(bad ? 1 : 0);
