import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { responseToken } from '../../server/notifications/answers.js';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Channels issue, part 3: answers from the device. The provider-shaped peer signs its callbacks
// exactly as the real one would; a reply, a keypress or a response link acts as the paged doctor
// through the same state machine, audited with the channel; nothing unsigned, replayed or expired acts.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let phone: TelephonyPeer;
let operator: ReturnType<typeof clientFor>;
const DOCTOR_PHONE = '+15550100123';
const TITLE = 'Patient Jane Doe desaturating';

beforeAll(async () => {
  phone = await startTelephonyPeer();
  env = await createTestEnv({ TELEPHONY_URL: phone.baseUrl, TELEPHONY_ACCOUNT_SID: phone.accountSid, TELEPHONY_AUTH_TOKEN: phone.authToken, TELEPHONY_FROM: '+15550100000' });
  server = await startTestServer(env);
  // The provider calls back the URL it was given: this server's.
  (env.deps.config as { publicUrl: string }).publicUrl = server.url;
  t = await seedTenants(env);
  operator = clientFor(server, await t.token('general', 'operator'));
  const doctor = clientFor(server, await t.token('general', 'doctor.icu'));
  const admin = clientFor(server, await t.token('general', 'admin'));
  const doc = t.user('general', 'doctor.icu');
  await admin.hospitals.updateSettings.mutate({ escalation: { high: { levelTimeoutsSeconds: [600, 600], targets: [[{ kind: 'user', userId: doc.id }], [{ kind: 'role', role: 'head_doctor' }]] } } });
  await env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES
    (${doc.hospitalId}, ${doc.id}, 'sms', ${DOCTOR_PHONE}, now()), (${doc.hospitalId}, ${doc.id}, 'voice', ${DOCTOR_PHONE}, now())`);
  await doctor.notifications.setRules.mutate({
    rules: { critical: [], high: [{ channel: 'sms', delaySeconds: 0 }, { channel: 'voice', delaySeconds: 300 }], medium: [], low: [] },
  });
});
beforeEach(async () => {
  phone.reset();
  await env.deps.db.execute(sql`UPDATE page_attempts SET status = 'cancelled' WHERE status IN ('queued', 'sending')`);
});

type Row = { id: string; channel: string; status: string; provider_id: string | null; answer: string | null; error: string | null; due_now: boolean };
const attemptsOf = async (alertId: string) =>
  (
    await env.deps.db.execute<Row>(sql`
      SELECT id, channel::text, status::text, provider_id, answer::text, error, due_at <= now() AS due_now FROM page_attempts WHERE alert_id = ${alertId} ORDER BY step`)
  ).rows;
const alertRow = async (id: string) =>
  (await env.deps.db.execute<{ status: string; escalation_level: number; acknowledged_by: string | null }>(sql`SELECT status, escalation_level, acknowledged_by FROM alerts WHERE id = ${id}`)).rows[0]!;
const auditOf = async (alertId: string, what: string) =>
  (await env.deps.db.execute<{ user_id: string; user_agent: string }>(sql`SELECT user_id, user_agent FROM audit_logs WHERE resource_id = ${alertId} AND action = ${`alert.${what}`}`)).rows;

/** Raises a high alert in ICU room 312 and sends its first step (the SMS) through the peer. */
async function pagedBySms() {
  const a = await operator.alerts.create.mutate({ title: TITLE, priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: '312' });
  for (let i = 0; i < 100 && !(await attemptsOf(a.id)).length; i++) await new Promise((r) => setTimeout(r, 20));
  await sendDueAttempts(env.deps);
  const sms = phone.messages.at(-1);
  expect(sms?.params.To).toBe(DOCTOR_PHONE);
  return { alert: a, sms: sms! };
}
const hook = (name: string) => `${server.url}/hooks/telephony/${name}`;

describe('SMS replies and status callbacks', () => {
  it('the SMS says how to answer and carries a response link, with no patient detail', async () => {
    const { sms } = await pagedBySms();
    expect(sms.params.Body).toMatch(/^Clarion: HIGH · ICU · room 312\. Reply 1 to acknowledge, 2 to decline\. http:\/\/127\.0\.0\.1:\d+\/r\/[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(sms.params.Body).not.toContain('Jane');
    expect(sms.params.StatusCallback).toBe(hook('status'));
  });

  it('"1" from the paged phone acknowledges as the doctor, audited as an SMS answer; the call step is cancelled', async () => {
    const { alert } = await pagedBySms();
    expect(await phone.inboundSms(hook('inbound'), { from: DOCTOR_PHONE, to: '+15550100000', body: '1 on my way' })).toBe(200);
    expect(await alertRow(alert.id)).toMatchObject({ status: 'acknowledged', acknowledged_by: t.user('general', 'doctor.icu').id });
    expect(await auditOf(alert.id, 'acknowledged')).toEqual([{ user_id: t.user('general', 'doctor.icu').id, user_agent: 'clarion-sms-answer' }]);
    await env.deps.db.execute(sql`UPDATE page_attempts SET due_at = now() WHERE alert_id = ${alert.id} AND status = 'queued'`);
    await sendDueAttempts(env.deps);
    expect((await attemptsOf(alert.id)).map((r) => [r.channel, r.status, r.answer])).toEqual([
      ['sms', 'responded', 'acknowledged'],
      ['voice', 'cancelled', null],
    ]);
    expect(phone.calls).toHaveLength(0);
    // A second "1" finds no open page for that phone.
    expect(await phone.inboundSms(hook('inbound'), { from: DOCTOR_PHONE, to: '+15550100000', body: '1' })).toBe(200);
    expect((await auditOf(alert.id, 'acknowledged')).length).toBe(1);
  });

  it('"2" declines with the channel as the reason and escalates at once; a word the prompt does not offer changes nothing', async () => {
    const { alert } = await pagedBySms();
    await phone.inboundSms(hook('inbound'), { from: DOCTOR_PHONE, to: '+15550100000', body: 'no problem, coming' });
    expect((await alertRow(alert.id)).status).toBe('active');
    await phone.inboundSms(hook('inbound'), { from: DOCTOR_PHONE, to: '+15550100000', body: '2' });
    expect(await alertRow(alert.id)).toMatchObject({ status: 'active', escalation_level: 1 });
    const { rows } = await env.deps.db.execute<{ detail: { reason: string } }>(sql`SELECT detail FROM alert_events WHERE alert_id = ${alert.id} AND type = 'declined'`);
    expect(rows[0]?.detail.reason).toBe('Declined by sms');
  });

  it('a reply from a number with no open page, or an unsigned one, acts on nothing', async () => {
    const { alert } = await pagedBySms();
    await phone.inboundSms(hook('inbound'), { from: '+15550100777', to: '+15550100000', body: '1' });
    const forged = await fetch(hook('inbound'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm9wZQ==' }, body: new URLSearchParams({ From: DOCTOR_PHONE, Body: '1' }) });
    expect(forged.status).toBe(403);
    expect((await alertRow(alert.id)).status).toBe('active');
  });

  it('delivered moves the attempt on; a failed delivery falls through to the call at once', async () => {
    const { alert, sms } = await pagedBySms();
    expect(await phone.statusCallback(hook('status'), { sid: sms.sid, kind: 'sms', status: 'delivered' })).toBe(204);
    expect((await attemptsOf(alert.id))[0]).toMatchObject({ status: 'delivered' });
    expect((await attemptsOf(alert.id))[1]).toMatchObject({ status: 'queued', due_now: false });
    await phone.statusCallback(hook('status'), { sid: sms.sid, kind: 'sms', status: 'undelivered' });
    const [first, second] = await attemptsOf(alert.id);
    expect(first).toMatchObject({ status: 'failed', error: 'The provider reported undelivered' });
    expect(second).toMatchObject({ status: 'queued', due_now: true });
    await sendDueAttempts(env.deps);
    expect(phone.calls).toHaveLength(1);
  });
});

describe('voice keypad', () => {
  async function pagedByCall() {
    const { alert, sms } = await pagedBySms();
    await phone.statusCallback(hook('status'), { sid: sms.sid, kind: 'sms', status: 'failed' });
    await sendDueAttempts(env.deps);
    const call = phone.calls.at(-1)!;
    return { alert, call };
  }

  it('the call reads the page and offers 1 / 2; pressing 1 acknowledges as the doctor', async () => {
    const { alert, call } = await pagedByCall();
    expect(call.params.Twiml).toContain('HIGH, ICU, room 312. Press 1 to acknowledge. Press 2 to decline.');
    expect(call.params.Twiml).toContain(`action="${hook('gather')}"`);
    const res = await fetch(hook('gather'), { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await phone.keypad(hook('gather'), { callSid: call.sid, digits: '1', from: '+15550100000', to: DOCTOR_PHONE })).toBe(200);
    expect((await alertRow(alert.id)).status).toBe('acknowledged');
    expect(await auditOf(alert.id, 'acknowledged')).toEqual([{ user_id: t.user('general', 'doctor.icu').id, user_agent: 'clarion-voice-answer' }]);
  });

  it('a call that ends without a keypress fails its step; a second keypress on an answered call changes nothing', async () => {
    const { alert, call } = await pagedByCall();
    await phone.statusCallback(hook('status'), { sid: call.sid, kind: 'voice', status: 'completed' });
    expect((await attemptsOf(alert.id))[1]).toMatchObject({ status: 'failed', error: 'The call ended without a keypress' });
    await phone.keypad(hook('gather'), { callSid: call.sid, digits: '2', from: '+15550100000', to: DOCTOR_PHONE });
    expect((await alertRow(alert.id)).escalation_level).toBe(1);
    await phone.keypad(hook('gather'), { callSid: call.sid, digits: '2', from: '+15550100000', to: DOCTOR_PHONE });
    expect((await alertRow(alert.id)).escalation_level).toBe(1);
  });
});

describe('response links /r/<token>', () => {
  const linkOf = (body: string) => /(http:\/\/\S+\/r\/\S+)$/.exec(body)?.[1] as string;
  const postForm = (url: string, form: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });

  it('a GET only shows the alert (a link previewer acknowledges nothing); the POST acts once; a replay is refused', async () => {
    const { alert, sms } = await pagedBySms();
    const link = linkOf(sms.params.Body!);
    for (let i = 0; i < 3; i++) {
      const page = await fetch(link);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('HIGH · ICU · room 312');
      expect(html).toContain('value="acknowledge"');
      expect(html).toContain('In theatre or a procedure');
      expect(html).not.toContain('Jane');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect((await alertRow(alert.id)).status).toBe('active');
    const noReason = await postForm(link, { action: 'decline' });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain('Choose a reason');
    const ok = await postForm(link, { action: 'decline', reason: 'other', other: 'Scrubbed in for a C-section' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('paging the next person');
    const { rows } = await env.deps.db.execute<{ detail: { reason: string } }>(sql`SELECT detail FROM alert_events WHERE alert_id = ${alert.id} AND type = 'declined'`);
    expect(rows.map((r) => r.detail.reason)).toEqual(['Scrubbed in for a C-section']);
    expect((await auditOf(alert.id, 'declined'))[0]?.user_agent).toBe('clarion-link-answer');
    const replay = await postForm(link, { action: 'acknowledge' });
    expect(replay.status).toBe(410);
    expect(await replay.text()).toContain('already been answered');
    expect((await alertRow(alert.id)).status).toBe('active');
    expect((await fetch(link)).status).toBe(410);
  });

  it('JSON answers for a service worker; an expired, forged or tampered link is refused and changes nothing', async () => {
    const { alert, sms } = await pagedBySms();
    const link = linkOf(sms.params.Body!);
    const [attempt] = await attemptsOf(alert.id);
    const forged = `${server.url}/r/${attempt!.id}.${'A'.repeat(43)}`;
    expect((await postForm(forged, { action: 'acknowledge' })).status).toBe(404);
    const otherSecret = `${server.url}/r/${responseToken('another-server-secret', attempt!.id)}`;
    expect((await fetch(otherSecret)).status).toBe(404);
    const bad = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'escalate' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ ok: false, message: 'Choose Acknowledge or Decline' });
    await env.deps.db.execute(sql`UPDATE page_attempts SET token_expires_at = now() - interval '1 second' WHERE id = ${attempt!.id}`);
    const expired = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'acknowledge' }) });
    expect(expired.status).toBe(410);
    expect((await expired.json()).message).toContain('expired');
    expect((await alertRow(alert.id)).status).toBe('active');
    await env.deps.db.execute(sql`UPDATE page_attempts SET token_expires_at = now() + interval '1 hour' WHERE id = ${attempt!.id}`);
    const ok = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'acknowledge' }) });
    expect(await ok.json()).toMatchObject({ ok: true });
    expect((await alertRow(alert.id)).status).toBe('acknowledged');
  });

  it("a device's receipt (the push service worker's POST to <link>/delivered) moves sent to delivered once; a forged one is refused", async () => {
    const { alert, sms } = await pagedBySms();
    const link = linkOf(sms.params.Body!);
    const r = await fetch(`${link}/delivered`, { method: 'POST' });
    expect(await r.json()).toEqual({ ok: true, delivered: true });
    expect((await attemptsOf(alert.id))[0]).toMatchObject({ status: 'delivered' });
    expect(await (await fetch(`${link}/delivered`, { method: 'POST' })).json()).toEqual({ ok: true, delivered: false });
    const [attempt] = await attemptsOf(alert.id);
    expect((await fetch(`${server.url}/r/${attempt!.id}.${'B'.repeat(43)}/delivered`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${link}/delivered`)).status).toBe(405);
    expect((await alertRow(alert.id)).status).toBe('active');
  });

  it('someone else acknowledged first: the link says so and records nothing for the doctor', async () => {
    const { alert, sms } = await pagedBySms();
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    await nurse.alerts.acknowledge.mutate({ alertId: alert.id });
    const res = await postForm(linkOf(sms.params.Body!), { action: 'acknowledge' });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('already acknowledged');
    expect(await alertRow(alert.id)).toMatchObject({ acknowledged_by: t.user('general', 'nurse.icu').id });
  });

  it('a deactivated doctor cannot answer with an old link', async () => {
    const { alert, sms } = await pagedBySms();
    const doc = t.user('general', 'doctor.icu');
    await env.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${doc.id}`);
    try {
      const res = await postForm(linkOf(sms.params.Body!), { action: 'acknowledge' });
      expect(res.status).toBe(403);
      expect((await alertRow(alert.id)).status).toBe('active');
    } finally {
      await env.deps.db.execute(sql`UPDATE users SET is_active = true WHERE id = ${doc.id}`);
    }
  });
});
