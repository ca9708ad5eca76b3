import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { rulesSchema } from '../../server/notifications/schemas.js';
import type { Actor } from '../../server/permissions.js';
import type { TestEnv } from '../support/env.js';
import { createOutageEnv, type OutageEnv } from '../support/outage.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type SeededUser, type Tenants } from '../support/tenants.js';
import { killWorkers, spawnWorker, waitUntil } from '../support/worker.js';

// The outbox (page_attempts) against the REAL worker process and the provider-shaped SMS peer: a
// worker SIGKILLed mid-sending and a Redis restart while no worker runs lose no page and send each
// attempt once — except an attempt whose send was in flight at the kill, which the at-least-once
// lease may send a second time. And with Redis down entirely the sender (Postgres only) still sends.
// The worker's Redis is a PRIVATE redis-server (test/support/outage.ts); the shared one is not touched.
let outage: OutageEnv;
let env: TestEnv;
let t: Tenants;
let phone: TelephonyPeer;
let operator: SeededUser;
let doctor: SeededUser;
const PHONES = ['+15550100201', '+15550100202']; // the doctor's two verified phones: one row each per page
const UNVERIFIED = '+15550100299';
const STALL_MS = 150; // each provider request takes this long, so a kill lands mid-send

beforeAll(async () => {
  phone = await startTelephonyPeer();
  outage = await createOutageEnv({
    SWEEP_INTERVAL_MS: '500',
    TELEPHONY_URL: phone.baseUrl,
    TELEPHONY_ACCOUNT_SID: phone.accountSid,
    TELEPHONY_AUTH_TOKEN: phone.authToken,
    TELEPHONY_FROM: '+15550100000',
    // ~90 SMS go to one doctor here; the hourly per-person cap (30 by default) has its own tests.
    TELEPHONY_MAX_PER_USER_PER_HOUR: '1000',
  });
  env = outage.env;
  t = await seedTenants(env);
  operator = t.user('general', 'operator');
  doctor = t.user('general', 'doctor.icu');
  const nurse = t.user('general', 'nurse.icu');
  // high: level 0 pages the ICU nurse (no phone: screens only), 1 s later level 1 pages the doctor.
  // critical: level 0 pages the doctor at once (the Redis-down case).
  const policies = {
    high: { levelTimeoutsSeconds: [1], targets: [[{ kind: 'user', userId: nurse.id }], [{ kind: 'user', userId: doctor.id }]] },
    critical: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: doctor.id }]] },
  };
  await env.deps.db.execute(sql`UPDATE hospitals SET settings = settings || jsonb_build_object('escalation', settings->'escalation' || ${JSON.stringify(policies)}::jsonb) WHERE id = ${doctor.hospitalId}`);
  // Verification has its own tests: the contacts are written verified (and one not, which must get nothing).
  await env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES
    (${doctor.hospitalId}, ${doctor.id}, 'sms', ${PHONES[0]}, now()), (${doctor.hospitalId}, ${doctor.id}, 'sms', ${PHONES[1]}, now()),
    (${doctor.hospitalId}, ${doctor.id}, 'sms', ${UNVERIFIED}, NULL)`);
  const sms = [{ channel: 'sms' as const, delaySeconds: 0 }];
  const rules = rulesSchema.parse({ critical: sms, high: sms, medium: [], low: [] });
  await env.deps.db.execute(sql`INSERT INTO notification_rules (user_id, hospital_id, rules) VALUES (${doctor.id}, ${doctor.hospitalId}, ${JSON.stringify(rules)}::jsonb)`);
});

const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: null, userAgent: 'test', sessionId: null });
const raise = (priority: 'high' | 'critical', room: string) =>
  createAlert(env.deps, operator as Actor, auditOf(operator as Actor), { title: `Outbox crash ${room}`, priority, alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: room });
const rooms = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);
const exited = (child: ReturnType<typeof spawnWorker>) => new Promise((r) => child.once('exit', r));

type Attempt = { key: string; status: string; tries: number; age: number; error: string | null };
/** The doctor's attempts for these rooms, keyed "phone|room": one SMS body names exactly one of them. */
async function attemptsFor(roomList: string[]): Promise<Attempt[]> {
  const { rows } = await env.deps.db.execute<Attempt>(sql`
    SELECT c.address || '|' || al.room_number AS key, pa.status::text, pa.tries, round(extract(epoch FROM now() - pa.updated_at))::int AS age, pa.error
    FROM page_attempts pa JOIN contacts c ON c.id = pa.contact_id JOIN alerts al ON al.id = pa.alert_id
    WHERE pa.user_id = ${doctor.id} AND al.room_number IN ${roomList} ORDER BY key`);
  return rows;
}
/** The same key for what reached the peer: the SMS text carries the room ("HIGH · ICU · room K07"). */
const keyOf = (params: Record<string, string>) => `${params.To}|${/room (\w+)/.exec(params.Body ?? '')?.[1] ?? '?'}`;
/** SMS per key for these rooms (the demo seed's own alerts may page the doctor too: not counted). */
const tally = (list: { params: Record<string, string> }[], roomList: string[]) => {
  const n = new Map<string, number>();
  for (const m of list) {
    const key = keyOf(m.params);
    if (roomList.includes(key.split('|')[1]!)) n.set(key, (n.get(key) ?? 0) + 1);
  }
  return n;
};
const keysOf = (xs: Iterable<string>) => [...xs].sort();

describe('the outbox across a worker SIGKILL and a Redis restart', () => {
  it('no page lost, none sent twice but the sends in flight at the kill', async () => {
    const ALERTS = 30;
    const roomList = rooms('K', ALERTS);
    phone.reset();
    phone.stallNext(1_000, STALL_MS);
    const first = spawnWorker(env);
    const heartbeat = `${env.config.redis.keyPrefix}:worker:heartbeat`;
    await waitUntil(async () => !!(await env.deps.redis.get(heartbeat).catch(() => null)), 45_000, 'the worker heartbeat');
    await Promise.all(roomList.map((room) => raise('high', room)));
    // The worker escalates them after 1 s and pages the doctor; kill it when some SMS are out, not all.
    const mine = () => [...tally(phone.messages, roomList).values()].reduce((a, b) => a + b, 0);
    await waitUntil(() => mine() >= 20, 30_000, 'the first SMS');
    first.kill('SIGKILL');
    await exited(first);
    // A request already at the peer completes there (the provider sends it): wait out its stall.
    await new Promise((r) => setTimeout(r, STALL_MS + 250));
    const atKill = await attemptsFor(roomList);
    const sendingAtKill = new Set(atKill.filter((a) => a.status === 'sending').map((a) => a.key));
    const sentAtKill = new Set(atKill.filter((a) => a.status === 'sent').map((a) => a.key));
    const reachedAtKill = new Set(phone.requests.map((r) => keyOf(r.params)));
    const messagesAtKill = mine();
    expect(messagesAtKill).toBeLessThan(ALERTS * PHONES.length); // the kill came mid-sending

    // Redis restarts with no worker running: every BullMQ timer and schedule is gone.
    await outage.stopRedis();
    await outage.startRedis();
    // The lease is 60 s (SENDING_LEASE_SECONDS); rather than wait it out, the rows the killed worker
    // left 'sending' are aged past it, which is all that a minute going by would change.
    await env.deps.db.execute(sql`UPDATE page_attempts SET updated_at = now() - interval '61 seconds' WHERE status = 'sending'`);
    const second = spawnWorker(env);
    const expected = ALERTS * PHONES.length;
    let seen = '';
    await waitUntil(async () => {
      const rows = await attemptsFor(roomList);
      seen = JSON.stringify(rows.filter((r) => r.status !== 'sent'));
      return rows.length === expected && rows.every((r) => r.status === 'sent');
    }, 40_000, `all ${expected} attempts sent`).catch((err: Error) => {
      throw new Error(`${err.message}; of ${expected}, not sent: ${seen}`);
    });
    await new Promise((r) => setTimeout(r, 1_500)); // any late second send would show by now

    const final = await attemptsFor(roomList);
    expect(final).toHaveLength(expected);
    const { rows: pages } = await env.deps.db.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM alert_pages ap JOIN alerts al ON al.id = ap.alert_id WHERE ap.user_id = ${doctor.id} AND ap.level = 1 AND al.room_number IN ${roomList}`);
    expect(pages[0]!.n).toBe(ALERTS); // each alert escalated and paged her exactly once
    const received = tally(phone.messages, roomList);
    expect(phone.requests.some((r) => r.params.To === UNVERIFIED)).toBe(false);
    expect(keysOf(received.keys())).toEqual(keysOf(final.map((a) => a.key))); // every attempt reached the phone, nothing else did
    const duplicated = [...received].filter(([, n]) => n > 1);
    for (const [key, n] of duplicated) {
      expect(n, key).toBe(2);
      // Only a send in flight at the kill: claimed ('sending') and already at the provider.
      expect(sendingAtKill.has(key) && reachedAtKill.has(key), key).toBe(true);
    }
    for (const key of sentAtKill) expect(received.get(key), key).toBe(1);
    const duplicates = duplicated.length;
    const inFlight = [...sendingAtKill].filter((k) => reachedAtKill.has(k)).length;
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    expect(duplicates).toBeLessThanOrEqual(sendingAtKill.size);
    console.log(
      `outbox crash: ${expected} attempts, ${messagesAtKill} SMS before the kill, ${sendingAtKill.size} rows 'sending' at the kill (${inFlight} at the provider), ${mine()} SMS in all, ${duplicates} duplicate(s)`,
    );
    second.kill('SIGTERM');
    await exited(second);
  }, 120_000);

  it('with Redis down the whole time, due attempts are still sent, each once', async () => {
    const roomList = rooms('R', 10);
    killWorkers(); // a worker the first test left running (had it failed) would send before we look
    phone.reset(); // also drops the stalls left from the first test
    await outage.stopRedis();
    // Raised during the outage (raising needs only Postgres); the page and its attempts commit together.
    await Promise.all(roomList.map((room) => raise('critical', room)));
    await waitUntil(async () => (await attemptsFor(roomList)).length === roomList.length * PHONES.length, 10_000, 'the attempts');
    expect((await attemptsFor(roomList)).every((a) => a.status === 'queued')).toBe(true); // due, and no worker yet
    const worker = spawnWorker(env); // a worker that starts during the outage
    await waitUntil(async () => (await attemptsFor(roomList)).every((a) => a.status === 'sent'), 45_000, 'every attempt sent with Redis down');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(outage.redisUp).toBe(false);
    const received = tally(phone.messages, roomList);
    expect(keysOf(received.keys())).toEqual(keysOf((await attemptsFor(roomList)).map((a) => a.key)));
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    worker.kill('SIGKILL'); // SIGTERM would wait on Redis-bound closes for up to 8 s
    await exited(worker);
    await outage.startRedis();
  }, 90_000);
});
