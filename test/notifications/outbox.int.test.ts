import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Channels issue, part 2: the outbox. A page's attempts commit with the page (clarion_page_level),
// the sender claims due rows from Postgres, a failure falls through to the next step at once, an
// answer cancels the rest, a row a killed worker left 'sending' is sent after its lease.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let phone: TelephonyPeer;
let operator: ReturnType<typeof clientFor>;
let doctor: ReturnType<typeof clientFor>;
const TITLE = 'Patient Jane Doe desaturating';

beforeAll(async () => {
  phone = await startTelephonyPeer();
  env = await createTestEnv({ TELEPHONY_URL: phone.baseUrl, TELEPHONY_ACCOUNT_SID: phone.accountSid, TELEPHONY_AUTH_TOKEN: phone.authToken, TELEPHONY_FROM: '+15550100000' });
  server = await startTestServer(env);
  t = await seedTenants(env);
  operator = clientFor(server, await t.token('general', 'operator'));
  doctor = clientFor(server, await t.token('general', 'doctor.icu'));
  const admin = clientFor(server, await t.token('general', 'admin'));
  const doc = t.user('general', 'doctor.icu');
  await admin.hospitals.updateSettings.mutate({ escalation: { high: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: doc.id }]] } } });
  // The doctor's verified phone (verification has its own tests), an unverified one, and her rules.
  await env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES
    (${doc.hospitalId}, ${doc.id}, 'sms', '+15550100123', now()), (${doc.hospitalId}, ${doc.id}, 'voice', '+15550100123', now()),
    (${doc.hospitalId}, ${doc.id}, 'sms', '+15550100999', NULL)`);
  await doctor.notifications.setRules.mutate({
    rules: { critical: [], high: [{ channel: 'push', delaySeconds: 0 }, { channel: 'sms', delaySeconds: 0 }, { channel: 'voice', delaySeconds: 30 }], medium: [], low: [] },
  });
});
beforeEach(async () => {
  phone.reset();
  // Each test sees only its own alerts' attempts: the earlier tests' leftovers are retired.
  await env.deps.db.execute(sql`UPDATE page_attempts SET status = 'cancelled' WHERE status IN ('queued', 'sending')`);
});

type Attempt = { id: string; channel: string; step: number; status: string; tries: number; provider_id: string | null; error: string | null; delay: number };
const attemptsOf = async (alertId: string) =>
  (
    await env.deps.db.execute<Attempt>(sql`
      SELECT pa.id, pa.channel::text, pa.step, pa.status::text, pa.tries, pa.provider_id, pa.error,
             round(extract(epoch FROM pa.due_at - ap.paged_at))::int AS delay
      FROM page_attempts pa JOIN alert_pages ap ON ap.id = pa.page_id WHERE pa.alert_id = ${alertId} ORDER BY pa.step, pa.channel`)
  ).rows;
const raise = async () => {
  const a = await operator.alerts.create.mutate({ title: TITLE, priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: '312' });
  // The server pages right after its commit.
  for (let i = 0; i < 100 && !(await attemptsOf(a.id)).length; i++) await new Promise((r) => setTimeout(r, 20));
  return a;
};
const send = () => sendDueAttempts(env.deps);
const makeDue = (alertId: string) => env.deps.db.execute(sql`UPDATE page_attempts SET due_at = now() WHERE alert_id = ${alertId} AND status = 'queued'`);

describe('the outbox', () => {
  it('writes each step on each verified contact with the page, due at its delay; no push without a device, no unverified number', async () => {
    const a = await raise();
    const rows = await attemptsOf(a.id);
    expect(rows.map((r) => [r.channel, r.step, r.status, r.delay])).toEqual([
      ['sms', 1, 'queued', 0],
      ['voice', 2, 'queued', 30],
    ]);
    const pages = (await env.deps.db.execute(sql`SELECT id FROM alert_pages WHERE alert_id = ${a.id}`)).rows;
    expect(pages).toHaveLength(1);
  });

  it('sends the due SMS with no patient detail, records the provider id, and leaves the call for its time', async () => {
    const a = await raise();
    await send();
    expect(phone.messages).toHaveLength(1);
    const body = phone.messages[0]!.params.Body!;
    expect(body).toContain('HIGH · ICU · room 312');
    expect(body).not.toContain('Jane');
    expect(phone.messages[0]!.params.To).toBe('+15550100123');
    const [sms, voice] = await attemptsOf(a.id);
    expect(sms).toMatchObject({ status: 'sent', provider_id: phone.messages[0]!.sid, tries: 1 });
    expect(voice).toMatchObject({ status: 'queued' });
    expect(phone.calls).toHaveLength(0);
  });

  it('a refused SMS fails at once and the call falls through immediately; a provider blip is retried', async () => {
    const a = await raise();
    phone.failNext(1, 400, { code: 21610, message: 'Unsubscribed recipient' });
    await send();
    expect((await attemptsOf(a.id))[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/Unsubscribed|refused|400/) });
    expect((await attemptsOf(a.id))[1]!.status).toBe('queued');
    await send();
    expect(phone.calls).toHaveLength(1);
    expect(phone.calls[0]!.params.Twiml).toContain('HIGH, ICU, room 312');
    expect((await attemptsOf(a.id))[1]).toMatchObject({ status: 'sent', provider_id: phone.calls[0]!.sid });

    const b = await raise();
    phone.failNext(1, 503);
    await send();
    expect((await attemptsOf(b.id))[0]).toMatchObject({ status: 'queued', tries: 1 });
    await env.deps.db.execute(sql`UPDATE page_attempts SET due_at = now() WHERE alert_id = ${b.id} AND step = 1`);
    await send();
    expect((await attemptsOf(b.id))[0]).toMatchObject({ status: 'sent', tries: 2 });
  });

  it('an acknowledgement stops the chain: the call still queued is cancelled, never placed', async () => {
    const a = await raise();
    await send();
    await doctor.alerts.acknowledge.mutate({ alertId: a.id });
    await makeDue(a.id);
    await send();
    expect(phone.calls).toHaveLength(0);
    expect((await attemptsOf(a.id)).map((r) => r.status)).toEqual(['sent', 'cancelled']);
  });

  it('a row a killed worker left sending is sent again after its lease; two senders never send one row twice', async () => {
    const a = await raise();
    await env.deps.db.execute(sql`UPDATE page_attempts SET status = 'sending', tries = 1, updated_at = now() - interval '5 minutes' WHERE alert_id = ${a.id} AND step = 1`);
    await send();
    expect(phone.messages).toHaveLength(1);
    expect((await attemptsOf(a.id))[0]).toMatchObject({ status: 'sent', tries: 2 });

    phone.reset();
    const many = [];
    for (let i = 0; i < 6; i++) many.push(await raise());
    await Promise.all([send(), send(), send()]);
    expect(phone.messages).toHaveLength(6);
    for (const x of many) expect((await attemptsOf(x.id))[0]!.status).toBe('sent');
  });
});
