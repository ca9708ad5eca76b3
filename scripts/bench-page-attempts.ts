// npm run bench:pages -- [--rate 100] [--duration 30] [--provider-ms 0] [--sender worker|drain] [--senders 1] [--drain-timeout 180]
// Page → first attempt sent, at a steady offered load: a fresh database, alerts raised at --rate per
// second whose level 0 pages one doctor with a verified SMS contact (rule: sms at delay 0), so each
// raise is one page and one page_attempts row. The sender runs in its own process: --sender worker is
// the real worker (worker/main.ts, its page-sender loop as shipped); --sender drain is this script's
// child running sendDueAttempts the way a proposed loop would (again at once after a full batch,
// --senders loops side by side). The provider is the SMS peer of the tests on localhost
// (--provider-ms: its answer time). Prints p50/p95/p99/max, throughput and counts; writes
// docs/bench-page-attempts.json (or --out). Exit code 1 if an attempt was lost or sent twice.
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { eq, sql } from 'drizzle-orm';
import { createAlert } from '../server/alerts/service.js';
import { loadConfig } from '../server/config.js';
import { withDatabase } from '../server/db/admin.js';
import { departments, hospitals, users } from '../server/db/schema.js';
import { closeDeps, createDeps } from '../server/deps.js';
import { createLogger } from '../server/logger.js';
import { SEND_INTERVAL_MS, sendDueAttempts } from '../server/notifications/sender.js';
import { seedDevelopment } from '../server/seed/dev.js';
import { freshDatabase } from '../load-tests/harness/setup.js';
import { startTelephonyPeer } from '../test/support/telephony-peer.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '30' },
    'provider-ms': { type: 'string', default: '0' },
    sender: { type: 'string', default: 'worker' },
    senders: { type: 'string', default: '1' },
    'drain-timeout': { type: 'string', default: '180' },
    out: { type: 'string', default: 'docs/bench-page-attempts.json' },
    'child-sender': { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const DURATION = Number(values.duration);
const PROVIDER_MS = Number(values['provider-ms']);
const SENDERS = Number(values.senders);
/** sender.ts's BATCH (not exported): a pass that claimed this many may have left due rows behind. */
const FULL_BATCH = 50;
const ROOT = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;
const ms = (x: number) => Math.round(x * 10) / 10;
const summary = (xs: number[]) => ({ count: xs.length, p50: ms(pct(xs, 50)), p95: ms(pct(xs, 95)), p99: ms(pct(xs, 99)), max: ms(xs.length ? Math.max(...xs) : Number.NaN) });
const fmt = (s: ReturnType<typeof summary>) => `p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (n ${s.count})`;

/** --child-sender: the proposed loop, in a process of its own like the worker's. */
async function childSender() {
  const config = loadConfig();
  const deps = createDeps(config, createLogger(config));
  let stopped = false;
  process.on('SIGTERM', () => {
    stopped = true;
  });
  const loop = async () => {
    while (!stopped) {
      const n = await sendDueAttempts(deps).catch(() => 0);
      if (n < FULL_BATCH) await sleep(SEND_INTERVAL_MS);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, loop));
  await closeDeps(deps);
  process.exit(0);
}

async function main() {
  const base = loadConfig({ ...process.env, CLARION_ENV: 'development' });
  const url = withDatabase(base.database.url, 'clarion_bench_pages');
  await freshDatabase(url);
  const phone = await startTelephonyPeer();
  // The peer's receipt time of each SMS, by the room its text names (one page per room).
  const receipts = new Map<string, number[]>();
  const record = phone.messages.push.bind(phone.messages);
  phone.messages.push = (...items) => {
    for (const m of items) {
      const room = /room (\w+)/.exec(m.params.Body ?? '')?.[1] ?? '?';
      receipts.set(room, [...(receipts.get(room) ?? []), Date.now()]);
    }
    return record(...items);
  };
  const env = {
    ...process.env,
    CLARION_ENV: 'development',
    DATABASE_URL: url,
    REDIS_KEY_PREFIX: `bench_pages_${Date.now()}`,
    LOG_LEVEL: 'warn',
    TELEPHONY_URL: phone.baseUrl,
    TELEPHONY_ACCOUNT_SID: phone.accountSid,
    TELEPHONY_AUTH_TOKEN: phone.authToken,
    TELEPHONY_FROM: '+15550100000',
    // Every page goes to one doctor: the hourly SMS caps (30 a person, 2,000 a hospital) would fail
    // most of them. They are raised, not switched off, so each send still pays for its count.
    TELEPHONY_MAX_PER_USER_PER_HOUR: '10000',
    TELEPHONY_MAX_PER_HOSPITAL_PER_HOUR: '1000000',
  };
  const config = loadConfig({ ...env, DB_POOL_MAX: '20', LOG_LEVEL: 'error' }); // slow-query warnings would drown the bar
  const deps = createDeps(config, createLogger(config));
  await seedDevelopment(deps);
  const [h] = await deps.db.select().from(hospitals).where(eq(hospitals.slug, 'general'));
  const hospitalId = h!.id;
  const [icu] = await deps.db.select().from(departments).where(eq(departments.code, 'ICU'));
  const [op] = await deps.db.select().from(users).where(eq(users.email, 'operator@general.test'));
  const [doc] = await deps.db.select().from(users).where(eq(users.email, 'doctor.icu@general.test'));
  const operator = { id: op!.id, role: op!.role, hospitalId, departmentId: op!.departmentId };
  // Level 0 pages the doctor (no escalation during the run); her only step is an SMS at once.
  const chain = JSON.stringify({ levelTimeoutsSeconds: [3600], targets: [[{ kind: 'user', userId: doc!.id }]] });
  await deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(jsonb_set(settings, '{escalation,high}', ${chain}::jsonb), '{dedupWindowSeconds}', '0') WHERE id = ${hospitalId}`);
  await deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES (${hospitalId}, ${doc!.id}, 'sms', '+15550100123', now())`);
  const sms = [{ channel: 'sms', delaySeconds: 0 }];
  await deps.db.execute(sql`INSERT INTO notification_rules (user_id, hospital_id, rules) VALUES (${doc!.id}, ${hospitalId}, ${JSON.stringify({ critical: sms, high: sms, medium: [], low: [] })}::jsonb)`);
  const audit = { userId: operator.id, hospitalId, ip: null, userAgent: 'bench', sessionId: null };
  const raise = (room: string) => createAlert(deps, operator, audit, { title: `Bench page ${room}`, priority: 'high', alertType: 'medical', departmentId: icu!.id, roomNumber: room });
  const bench = sql`pa.alert_id IN (SELECT id FROM alerts WHERE title LIKE 'Bench page %')`;
  const open = async () => (await deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM page_attempts pa WHERE ${bench} AND status IN ('queued', 'sending')`)).rows[0]!.n;

  const child: ChildProcess =
    values.sender === 'worker'
      ? spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] })
      : spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-page-attempts.ts', '--child-sender', '--senders', String(SENDERS)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  // Warm-up: the sender is running once a probe page's SMS has gone out.
  await raise('W0');
  for (let i = 0; !receipts.has('W0'); i++) {
    if (i > 600) throw new Error('the sender did not send the probe page within 60 s');
    await sleep(100);
  }

  const N = Math.round(RATE * DURATION);
  // The provider's answer time, for each request of the run (and any retry or duplicate).
  if (PROVIDER_MS > 0) phone.stallNext(2 * N, PROVIDER_MS);
  const backlog: { t: number; open: number }[] = [];
  let raised = 0;
  let raiseErrors = 0;
  const raiseCalls: number[] = [];
  const bar = new cliProgress.SingleBar({ format: 'pages |{bar}| {value}/{total} | open attempts {open} | raise errors {errors}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  bar.start(N, 0, { open: 0, errors: 0 });
  const t0 = Date.now();
  const sampler = setInterval(() => {
    void open().then((n) => {
      backlog.push({ t: Math.round((Date.now() - t0) / 1000), open: n });
      bar.update(raised, { open: n, errors: raiseErrors });
    });
  }, 1_000);
  // Open loop: each raise leaves on its own schedule, never waiting for the one before.
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    await sleep(t0 + (i * 1000) / RATE - Date.now());
    const at = Date.now();
    inFlight.push(
      raise(`P${i}`).then(
        () => {
          raiseCalls.push(Date.now() - at);
          raised++;
        },
        () => raiseErrors++,
      ),
    );
  }
  await Promise.all(inFlight);
  const loadEnd = Date.now();
  bar.stop();
  const deadline = Date.now() + Number(values['drain-timeout']) * 1000;
  // Every raise paged (the pager runs after the raise's commit) and no attempt still open.
  const pagedAll = async () => (await deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM page_attempts pa WHERE ${bench}`)).rows[0]!.n >= raised + 1;
  while (Date.now() < deadline && !((await pagedAll()) && (await open()) === 0)) await sleep(250);
  await sleep(1_500); // a late duplicate would show by now
  clearInterval(sampler);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  const { rows } = await deps.db.execute<{ room: string; status: string; paged: number; sent: number | null; raised: number }>(sql`
    SELECT al.room_number AS room, pa.status::text, extract(epoch FROM pa.created_at)::float * 1000 AS paged,
           extract(epoch FROM pa.sent_at)::float * 1000 AS sent, extract(epoch FROM al.created_at)::float * 1000 AS raised
    FROM page_attempts pa JOIN alerts al ON al.id = pa.alert_id WHERE ${bench} AND al.room_number <> 'W0'`);
  const sent = rows.filter((r) => r.sent !== null);
  const pageToSent = sent.map((r) => r.sent! - r.paged);
  const pageToPeer = rows.filter((r) => receipts.has(r.room)).map((r) => receipts.get(r.room)![0]! - r.paged);
  const raiseToPage = rows.map((r) => r.paged - r.raised);
  const duplicates = [...receipts.values()].reduce((n, times) => n + times.length - 1, 0);
  const during = sent.filter((r) => r.sent! >= t0 && r.sent! <= loadEnd).length;
  const lastSent = Math.max(...sent.map((r) => r.sent!));
  const counts = {
    raised,
    raiseErrors,
    pages: Number((await deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_pages WHERE alert_id IN (SELECT id FROM alerts WHERE title LIKE 'Bench page P%')`)).rows[0]!.n),
    attempts: rows.length,
    sent: rows.filter((r) => r.status === 'sent').length,
    failed: rows.filter((r) => r.status === 'failed').length,
    unsent: rows.filter((r) => r.status === 'queued' || r.status === 'sending').length,
    peerMessages: phone.messages.length - 1,
    duplicates,
  };
  const throughput = {
    offeredPerSecond: RATE,
    raisedPerSecond: raised / ((loadEnd - t0) / 1000),
    sentPerSecondDuringLoad: during / ((loadEnd - t0) / 1000),
    sentPerSecondOverall: sent.length / ((lastSent - t0) / 1000),
    drainSecondsAfterLoad: (lastSent - loadEnd) / 1000,
  };
  console.log(`sender: ${values.sender === 'worker' ? 'the real worker (worker/main.ts)' : `drain loop ×${SENDERS} (this script's child)`}; provider answer ${PROVIDER_MS} ms; offered ${RATE} pages/s for ${DURATION} s`);
  console.log(`counts: ${JSON.stringify(counts)}`);
  console.log(`page → attempt sent (sent_at):  ${fmt(summary(pageToSent))}`);
  console.log(`page → SMS at the provider:     ${fmt(summary(pageToPeer))}`);
  console.log(`raise call (the load's source):  ${fmt(summary(raiseCalls))}`);
  console.log(`raise → page (context):         ${fmt(summary(raiseToPage))}`);
  console.log(
    `throughput: raised ${throughput.raisedPerSecond.toFixed(1)}/s, sent ${throughput.sentPerSecondDuringLoad.toFixed(1)}/s during the load, ${throughput.sentPerSecondOverall.toFixed(1)}/s overall; last sent ${throughput.drainSecondsAfterLoad.toFixed(1)} s after the load; peak open attempts ${Math.max(0, ...backlog.map((b) => b.open))}`,
  );
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  // The worker runs the working tree: say whether it differed from the commit.
  const uncommittedServerChanges = execSync('git status --porcelain -- server worker migrations', { cwd: ROOT }).toString().trim() !== '';
  const report = {
    at: new Date().toISOString(),
    commit,
    uncommittedServerChanges,
    machine: { cpus: 2, load: loadavg() },
    options: { rate: RATE, duration: DURATION, providerMs: PROVIDER_MS, sender: values.sender, senders: SENDERS },
    counts,
    latencyMs: { pageToSent: summary(pageToSent), pageToProvider: summary(pageToPeer), raiseCall: summary(raiseCalls), raiseToPage: summary(raiseToPage) },
    throughput,
    backlog,
  };
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`report: ${values.out}`);
  // The worker's BullMQ keys under this run's prefix are removed from the shared Redis.
  let cursor = '0';
  do {
    const [next, keys] = await deps.redis.scan(cursor, 'MATCH', `${env.REDIS_KEY_PREFIX}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await deps.redis.del(...keys);
  } while (cursor !== '0');
  await closeDeps(deps);
  await phone.close();
  process.exit(counts.unsent === 0 && counts.failed === 0 && duplicates === 0 ? 0 : 1);
}

(values['child-sender'] ? childSender() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
