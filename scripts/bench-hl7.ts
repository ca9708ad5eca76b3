// npm run bench:hl7 [-- --rate 50 --seconds 60 --connections 4 --from-source --out docs/bench-hl7.json]
// HL7 message → alert on a ward board (issue 18): a fresh migrated database, the real server (compiled
// dist/, as the load harness runs it) with its MLLP listener on (HL7_MLLP_PORT), an HL7 source created
// through integrations.createHl7Source with a point-of-care → department mapping, one nurse of that
// department subscribed to alerts.onEvent over a real tRPC WebSocket, and node-hl7-client (the tests'
// peer, test/support/hl7-peer.ts) sending ORU^R40 at a steady --rate over --connections MLLP
// connections, each alarm with its own id and title. Latency: the message's scheduled send time → the
// board's `created` event for it (open loop, so a connection that falls behind shows as latency, not as
// a slower offered rate); also from the moment it went on the wire, and the ACK round trip.
// Prints p50/p95/p99/max, lost and duplicates; writes docs/bench-hl7.json. Exit 1 if any were lost,
// duplicated or not answered AA.
import { randomBytes } from 'node:crypto';
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { closeAgent, trpc } from '../load-tests/harness/api.js';
import { ensureServerBuild } from '../load-tests/harness/build.js';
import { freePort, ProcSampler, ROOT, spawnClarion, waitHttp } from '../load-tests/harness/processes.js';
import { freshDatabase, seedFixture } from '../load-tests/harness/setup.js';
import { Histogram, nowMs } from '../load-tests/harness/stats.js';
import { dropDatabase, withDatabase } from '../server/db/admin.js';
import type { AppRouter } from '../server/router.js';
import { hl7Peer, oruR40 } from '../test/support/hl7-peer.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '4' },
    'drain-timeout': { type: 'string', default: '60' },
    'from-source': { type: 'boolean', default: false },
    'keep-database': { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/bench-hl7.json' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Math.max(1, Number(values.connections));
const N = Math.round(RATE * SECONDS);
const FACILITY = 'BENCH_GW';
const POINT_OF_CARE = 'BENCH_WARD';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const log = (line: string) => console.log(line);

interface Sent {
  scheduled: number;
  wire?: number;
  ackMs?: number;
  ack?: string;
  seen: number;
  seenAt?: number;
}

async function main() {
  const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const dbUrl = withDatabase(postgresUrl, 'clarion_bench_hl7');
  const prefix = `clarion_bench_hl7_${randomBytes(3).toString('hex')}`;
  const run = randomBytes(2).toString('hex');
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);

  log('database clarion_bench_hl7: recreating and migrating');
  await freshDatabase(dbUrl);
  const fx = await seedFixture(dbUrl, { subscribers: 0, departments: 2, headShare: 0, operators: 0, admins: 1, nursesPerDept: 1, extraUsers: 0 });
  const ward = fx.departments[0] as { id: string };
  const other = fx.departments[1] as { id: string };
  const admin = fx.admins[0] as { token: string };
  const nurse = (fx.nurses[0] as { token: string }[])[0] as { token: string };

  const mllpPort = await freePort();
  const mode = values['from-source'] ? 'tsx' : ensureServerBuild(ROOT, log);
  const env = { CLARION_ENV: 'development', DATABASE_URL: dbUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn', HL7_MLLP_PORT: String(mllpPort), HL7_MLLP_HOST: '127.0.0.1' };
  const server = spawnClarion('bench-hl7-server', 'server', mode, env, await freePort());
  const sampler = new ProcSampler();
  const sent = new Map<number, Sent>();
  const titleOf = (seq: number) => `HL7 bench ${run} ${seq}`;
  const externalOf = (seq: number) => `BENCH-${run}-${seq}`;
  let unexpected = 0;
  let wrongOrigin = 0;
  const peers: ReturnType<typeof hl7Peer>[] = [];
  let closeBoard: () => void = () => undefined;

  try {
    await waitHttp(server, '/readyz');
    log(`clarion: server ready (${mode === 'dist' ? 'compiled dist/' : 'sources via tsx'}), MLLP on 127.0.0.1:${mllpPort}`);
    if (server.proc.pid) sampler.watch('server', server.proc.pid);

    const created = await trpc(server.url, 'mutation', 'integrations.createHl7Source', { name: 'Bench monitors', sendingFacility: FACILITY, departments: { [POINT_OF_CARE]: ward.id, BENCH_OTHER: other.id }, heartbeatSeconds: 300 }, admin.token);
    if (!created.ok) throw new Error(`integrations.createHl7Source failed: ${created.code} ${created.message}`);

    // The ward board: the department's nurse, as her screen subscribes (from the board's lastEventId).
    const active = await trpc(server.url, 'query', 'alerts.getActive', undefined, nurse.token);
    if (!active.ok) throw new Error(`alerts.getActive failed: ${active.code} ${active.message}`);
    const lastEventId = (active.data as { lastEventId: string }).lastEventId;
    const wsClient = createWSClient({ url: `${server.url.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, connectionParams: () => ({ token: nurse.token }), retryDelayMs: () => 500 });
    const board = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    await new Promise<void>((resolve, reject) => {
      const sub = board.alerts.onEvent.subscribe(
        { lastEventId },
        {
          onStarted: () => resolve(),
          onError: reject,
          onData: (d) => {
            const at = nowMs();
            const e = (d as unknown as { data: { type: string; alert: { title: string; source: string; externalId: string | null } } }).data;
            if (e.type !== 'created' || e.alert.title.startsWith(`HL7 warm-up ${run} `)) return;
            const m = /^HL7 bench (\w+) (\d+)$/.exec(e.alert.title);
            const s = m && m[1] === run ? sent.get(Number(m[2])) : undefined;
            if (!s) return void unexpected++;
            if (e.alert.source !== 'hl7:Bench monitors' || e.alert.externalId !== externalOf(Number(m?.[2]))) wrongOrigin++;
            s.seen++;
            s.seenAt ??= at;
          },
        },
      );
      closeBoard = () => {
        sub.unsubscribe();
        wsClient.close();
      };
    });
    log(`board: nurse of the mapped department subscribed; ${CONNECTIONS} MLLP connections; ${N} ORU^R40 at ${RATE}/s for ${SECONDS} s`);

    for (let c = 0; c < CONNECTIONS; c++) peers.push(hl7Peer(mllpPort));
    // Warm-up (not measured): one alarm per connection, answered AA, seen on the board.
    for (const [c, p] of peers.entries()) {
      const ack = await p.send(oruR40({ facility: FACILITY, pointOfCare: POINT_OF_CARE, alarmId: `WARM-${run}-${c}`, text: `HL7 warm-up ${run} ${c}`, room: 'W', bed: String(c) }));
      if (ack.code !== 'AA') throw new Error(`warm-up message answered ${ack.code}: ${ack.text}`);
    }

    // Open loop: message i is due at t0 + i/rate; connection i % C sends it (MLLP is one message, then
    // its ACK, per connection), so a connection behind schedule sends at once and the wait counts.
    const t0 = nowMs() + 200;
    for (let i = 0; i < N; i++) sent.set(i, { scheduled: t0 + (i * 1000) / RATE, seen: 0 });
    sampler.start(Date.now());
    let acked = 0;
    const progress = setInterval(() => {
      const seen = [...sent.values()].filter((s) => s.seen > 0).length;
      const cpu = sampler.latest()[0];
      log(`  ${Math.round((nowMs() - t0) / 1000)} s: sent ${[...sent.values()].filter((s) => s.wire).length}, acked ${acked}, on the board ${seen}${cpu ? `, server CPU ${cpu.cpuPct} % RSS ${cpu.rssMb} MB` : ''}`);
    }, 10_000);
    await Promise.all(
      peers.map(async (peer, c) => {
        for (let i = c; i < N; i += CONNECTIONS) {
          const s = sent.get(i) as Sent;
          await sleep(s.scheduled - nowMs());
          const text = oruR40({ facility: FACILITY, pointOfCare: POINT_OF_CARE, alarmId: externalOf(i), text: titleOf(i), room: String(100 + (i % 40)), bed: String(i % 4) });
          s.wire = nowMs();
          try {
            const ack = await peer.send(text);
            s.ack = ack.code;
          } catch (err) {
            s.ack = (err as Error).message;
          }
          s.ackMs = nowMs() - s.wire;
          acked++;
        }
      }),
    );
    const loadEnd = nowMs();
    const deadline = Date.now() + Number(values['drain-timeout']) * 1000;
    while (Date.now() < deadline && [...sent.values()].some((s) => s.ack === 'AA' && s.seen === 0)) await sleep(100);
    await sleep(1_500); // a late duplicate would show by now
    clearInterval(progress);
    const procs = sampler.stop();

    const toBoard = new Histogram();
    const wireToBoard = new Histogram();
    const ackRtt = new Histogram();
    const sendLag = new Histogram();
    let lost = 0;
    let duplicates = 0;
    const notAa: Record<string, number> = {};
    for (const s of sent.values()) {
      if (s.ackMs !== undefined) ackRtt.record(s.ackMs);
      if (s.wire) sendLag.record(s.wire - s.scheduled);
      if (s.ack !== 'AA') notAa[s.ack ?? 'not sent'] = (notAa[s.ack ?? 'not sent'] ?? 0) + 1;
      if (s.seen === 0) lost++;
      if (s.seen > 1) duplicates += s.seen - 1;
      if (s.seenAt) {
        toBoard.record(s.seenAt - s.scheduled);
        if (s.wire) wireToBoard.record(s.seenAt - s.wire);
      }
    }
    const fmt = (h: Histogram) => {
      const x = h.summary();
      return `p50 ${x.p50} ms · p95 ${x.p95} ms · p99 ${x.p99} ms · max ${x.max} ms (n ${x.count})`;
    };
    const elapsed = (loadEnd - t0) / 1000;
    const loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);
    console.log(`\nHL7 ORU^R40 → board, ${N} messages offered at ${RATE}/s over ${CONNECTIONS} connections (sent in ${elapsed.toFixed(1)} s = ${(N / elapsed).toFixed(1)}/s)`);
    console.log(`scheduled send → board 'created':  ${fmt(toBoard)}`);
    console.log(`on the wire → board 'created':     ${fmt(wireToBoard)}`);
    console.log(`ACK round trip:                    ${fmt(ackRtt)}`);
    console.log(`send lag behind schedule:          ${fmt(sendLag)}`);
    console.log(`lost ${lost}, duplicates ${duplicates}, not AA ${JSON.stringify(notAa)}, unexpected ${unexpected}, wrong source/external id ${wrongOrigin}`);
    console.log(`server: mean CPU ${procs[0]?.meanCpuPct ?? '?'} %, peak ${procs[0]?.peakCpuPct ?? '?'} %, peak RSS ${procs[0]?.peakRssMb ?? '?'} MB; load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')} (${cpus().length} CPUs)`);

    const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    const uncommittedServerChanges = execSync('git status --porcelain -- server migrations', { cwd: ROOT }).toString().trim() !== '';
    const report = {
      at: new Date().toISOString(),
      commit,
      uncommittedServerChanges,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadavgBefore: loadBefore, loadavgAfter: loadAfter, node: process.version },
      options: { rate: RATE, seconds: SECONDS, connections: CONNECTIONS, server: mode },
      counts: { offered: N, acked, notAa, seen: [...sent.values()].filter((s) => s.seen > 0).length, lost, duplicates, unexpected, wrongOrigin },
      throughput: { offeredPerSecond: RATE, sentPerSecond: Math.round((N / elapsed) * 10) / 10 },
      latencyMs: { scheduledToBoard: toBoard.summary(), wireToBoard: wireToBoard.summary(), ackRoundTrip: ackRtt.summary(), sendLag: sendLag.summary() },
      server: procs[0] ? { meanCpuPct: procs[0].meanCpuPct, peakCpuPct: procs[0].peakCpuPct, peakRssMb: procs[0].peakRssMb } : null,
    };
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`report: ${values.out}`);
    return lost === 0 && duplicates === 0 && Object.keys(notAa).length === 0;
  } finally {
    closeBoard();
    await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
    await server.stop();
    closeAgent();
    // The server's keys under this run's prefix leave the shared Redis.
    const redis = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    if (!values['keep-database']) await dropDatabase(dbUrl).catch(() => undefined);
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
