import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Mailbox, startMailbox } from '../accounts/helpers.js';
import { contactWebhookSecret, verifySignatureHeader } from '../../server/notifications/webhook-signing.js';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Channels issue: the email and webhook channels (a real SMTP server; a receiver that checks the
// X-Clarion-Signature the way an integrator would), notificationDetail, and the SMS/voice rate limits.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let phone: TelephonyPeer;
let mail: Mailbox;
let operator: ReturnType<typeof clientFor>;
let admin: ReturnType<typeof clientFor>;
const hooks: { body: string; signature: string | undefined }[] = [];
let hookUrl = '';
const TITLE = 'Patient Jane Doe desaturating';

beforeAll(async () => {
  phone = await startTelephonyPeer();
  mail = await startMailbox();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-clarion-signature'] as string | undefined });
      res.writeHead(req.url === '/gone' ? 410 : 204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pager`;
  env = await createTestEnv({
    SMTP_URL: mail.url,
    TELEPHONY_URL: phone.baseUrl,
    TELEPHONY_ACCOUNT_SID: phone.accountSid,
    TELEPHONY_AUTH_TOKEN: phone.authToken,
    TELEPHONY_FROM: '+15550100000',
    TELEPHONY_MAX_PER_USER_PER_HOUR: '2',
    TELEPHONY_MAX_PER_HOSPITAL_PER_HOUR: '3',
  });
  server = await startTestServer(env);
  t = await seedTenants(env);
  operator = clientFor(server, await t.token('general', 'operator'));
  admin = clientFor(server, await t.token('general', 'admin'));
});
beforeEach(async () => {
  phone.reset();
  hooks.length = 0;
  await env.deps.db.execute(sql`UPDATE page_attempts SET status = 'cancelled' WHERE status IN ('queued', 'sending')`);
});

/** Pages `who` for high alerts with `rules` on contacts inserted verified (verification has its own tests). */
async function pageUser(who: string, contacts: [string, string][], rules: { channel: string; delaySeconds: number }[]) {
  const u = t.user('general', who);
  await admin.hospitals.updateSettings.mutate({ escalation: { high: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: u.id }]] } } });
  await env.deps.db.execute(sql`DELETE FROM contacts WHERE user_id = ${u.id}`);
  const ids: string[] = [];
  for (const [channel, address] of contacts) {
    const { rows } = await env.deps.db.execute<{ id: string }>(sql`
      INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES (${u.hospitalId}, ${u.id}, ${channel}, ${address}, now()) RETURNING id`);
    ids.push(rows[0]!.id);
  }
  const client = clientFor(server, await t.token('general', who));
  await client.notifications.setRules.mutate({ rules: { critical: [], high: rules as never, medium: [], low: [] } });
  return { user: u, contactIds: ids };
}
async function raiseAndSend(room = '312') {
  const a = await operator.alerts.create.mutate({ title: TITLE, priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: room });
  for (let i = 0; i < 100; i++) {
    const { rows } = await env.deps.db.execute(sql`SELECT 1 FROM page_attempts WHERE alert_id = ${a.id}`);
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await sendDueAttempts(env.deps);
  return a;
}
const attemptsOf = async (alertId: string) =>
  (await env.deps.db.execute<{ channel: string; status: string; error: string | null }>(sql`SELECT channel::text, status::text, error FROM page_attempts WHERE alert_id = ${alertId} ORDER BY step`)).rows;

describe('email and webhook', () => {
  it('email carries the response link and no patient detail; a webhook POST is signed with the secret shown when it was added', async () => {
    const { contactIds } = await pageUser('doctor.icu', [['email', 'ivan@general.test'], ['webhook', hookUrl]], [
      { channel: 'email', delaySeconds: 0 },
      { channel: 'webhook', delaySeconds: 0 },
    ]);
    const a = await raiseAndSend();
    const msg = await mail.waitFor('ivan@general.test');
    expect(msg.text).toMatch(/Clarion page: HIGH \S+ ICU \S+ room 312/);
    expect(msg.text).toMatch(/\/r\/[0-9a-f-]{36}\.[\w-]{43}/);
    expect(msg.text).not.toContain('Jane');
    expect(hooks).toHaveLength(1);
    const hook = hooks[0]!;
    const secret = contactWebhookSecret(env.config.secrets.tokenSecret, contactIds[1]!);
    expect(verifySignatureHeader(secret, hook.body, hook.signature)).toBe(true);
    expect(verifySignatureHeader('whsec_wrong', hook.body, hook.signature)).toBe(false);
    expect(verifySignatureHeader(secret, hook.body.replace('high', 'low'), hook.signature)).toBe(false);
    const body = JSON.parse(hook.body);
    expect(body).toMatchObject({ type: 'clarion.page', alertId: a.id, priority: 'high', department: 'ICU', room: '312' });
    expect(body.links.respond).toMatch(/\/r\//);
    expect(body.title).toBeUndefined();
    expect((await attemptsOf(a.id)).map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it("notificationDetail 'full' adds the title, for hospitals that chose it", async () => {
    await pageUser('doctor.icu', [['webhook', hookUrl]], [{ channel: 'webhook', delaySeconds: 0 }]);
    await admin.hospitals.updateSettings.mutate({ notificationDetail: 'full' });
    try {
      await raiseAndSend('313');
      expect(JSON.parse(hooks[0]!.body).title).toBe(TITLE);
    } finally {
      await admin.hospitals.updateSettings.mutate({ notificationDetail: 'minimal' });
    }
    await expect(admin.hospitals.updateSettings.mutate({ notificationDetail: 'everything' as never })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
  });

  it('a webhook answering 410 fails the step and the next channel goes at once', async () => {
    await pageUser('doctor.icu', [['webhook', `${hookUrl.replace('/pager', '')}/gone`], ['email', 'ivan@general.test']], [
      { channel: 'webhook', delaySeconds: 0 },
      { channel: 'email', delaySeconds: 120 },
    ]);
    const a = await raiseAndSend('314');
    expect(await attemptsOf(a.id)).toMatchObject([
      { status: 'failed', error: 'The webhook answered HTTP 410' },
      { status: 'queued' },
    ]);
    await sendDueAttempts(env.deps);
    expect((await attemptsOf(a.id))[1]?.status).toBe('sent');
    expect((await mail.waitFor('ivan@general.test')).text).toContain('room 314');
  });
});

describe('SMS and voice rate limits', () => {
  it('per person: past the hourly limit an SMS step fails in words and falls through; codes are refused too', async () => {
    await pageUser('doctor.icu', [['sms', '+15550100123'], ['email', 'ivan@general.test']], [
      { channel: 'sms', delaySeconds: 0 },
      { channel: 'email', delaySeconds: 300 },
    ]);
    await raiseAndSend('320');
    await raiseAndSend('321');
    const third = await raiseAndSend('322');
    expect(phone.messages).toHaveLength(2);
    const rows = await attemptsOf(third.id);
    expect(rows[0]).toMatchObject({ status: 'failed', error: 'Rate limit: more than 2 SMS and calls to this person in an hour' });
    await sendDueAttempts(env.deps);
    expect((await attemptsOf(third.id))[1]?.status).toBe('sent');
    const doctor = clientFor(server, await t.token('general', 'doctor.icu'));
    await expect(doctor.notifications.addContact.mutate({ channel: 'sms', address: '+15550100456' })).rejects.toMatchObject({ data: { code: 'TOO_MANY_REQUESTS' } });
  });

  it('per hospital: another person is stopped once the hospital has used its hour', async () => {
    await pageUser('nurse.icu', [['sms', '+15550100789']], [{ channel: 'sms', delaySeconds: 0 }]);
    const a = await raiseAndSend('330');
    const b = await raiseAndSend('331');
    expect((await attemptsOf(a.id))[0]?.status).toBe('sent');
    expect((await attemptsOf(b.id))[0]).toMatchObject({ status: 'failed', error: 'Rate limit: more than 3 SMS and calls for this hospital in an hour' });
  });
});
