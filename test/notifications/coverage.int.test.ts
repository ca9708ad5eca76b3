import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mailbox, startMailbox } from '../accounts/helpers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Channels issue: hospital defaults by role, the admins' list of people a page cannot reach beyond
// the screens, and "Send test".
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let phone: TelephonyPeer;
let mail: Mailbox;
let admin: ReturnType<typeof clientFor>;
let nurse: ReturnType<typeof clientFor>;

beforeAll(async () => {
  phone = await startTelephonyPeer();
  mail = await startMailbox();
  env = await createTestEnv({ SMTP_URL: mail.url, TELEPHONY_URL: phone.baseUrl, TELEPHONY_ACCOUNT_SID: phone.accountSid, TELEPHONY_AUTH_TOKEN: phone.authToken, TELEPHONY_FROM: '+15550100000' });
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
  nurse = clientFor(server, await t.token('general', 'nurse.icu'));
});

const OTHER = 'riverside';
const verified = async (who: string, channel: string, address: string) => {
  const u = t.user('general', who);
  await env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES (${u.hospitalId}, ${u.id}, ${channel}, ${address}, now())`);
};

describe('hospital defaults by role', () => {
  it("a nurse without rules of her own gets the hospital's nurse defaults; saving her own wins; bad defaults are refused", async () => {
    const before = await nurse.notifications.getRules.query();
    expect(before.rules.critical[0]).toEqual({ channel: 'push', delaySeconds: 0 });
    const nurseDefaults = { critical: [{ channel: 'sms' as const, delaySeconds: 0 }], high: [{ channel: 'sms' as const, delaySeconds: 0 }], medium: [], low: [] };
    await admin.hospitals.updateSettings.mutate({ notificationDefaults: { nurse: nurseDefaults } });
    const after = await nurse.notifications.getRules.query();
    expect(after).toMatchObject({ custom: false, rules: nurseDefaults });
    // A doctor is not a nurse: the built-in steps still.
    const doctor = clientFor(server, await t.token('general', 'doctor.icu'));
    expect((await doctor.notifications.getRules.query()).rules.critical).toHaveLength(3);
    await expect(
      admin.hospitals.updateSettings.mutate({ notificationDefaults: { nurse: { ...nurseDefaults, critical: [{ channel: 'sms', delaySeconds: 60 }, { channel: 'voice', delaySeconds: 0 }] } } }),
    ).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    await expect(admin.hospitals.updateSettings.mutate({ notificationDefaults: { robot: nurseDefaults } as never })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    await expect(nurse.hospitals.updateSettings.mutate({ notificationDefaults: null })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    await admin.hospitals.updateSettings.mutate({ notificationDefaults: null });
    expect((await nurse.notifications.getRules.query()).rules.critical).toHaveLength(3);
  });
});

describe('notifications.unreachable', () => {
  it('lists the people a page would reach on screens only, those on a schedule first; admins only', async () => {
    const list = await admin.notifications.unreachable.query();
    const row = list.users.find((u) => u.userId === t.user('general', 'nurse.icu').id)!;
    expect(row).toMatchObject({ role: 'nurse', unreachable: ['low', 'medium', 'high', 'critical'], verifiedChannels: [] });
    // Operators and admins are never paged by role: not listed.
    expect(list.users.some((u) => u.role === 'operator' || u.role === 'admin')).toBe(false);
    // Another hospital's people never appear, nor ours in theirs.
    const theirs = await clientFor(server, await t.token(OTHER, 'admin')).notifications.unreachable.query();
    expect(theirs.users.length).toBeGreaterThan(0);
    expect(theirs.users.map((u) => u.userId)).not.toContain(row.userId);
    expect(list.users.map((u) => u.userId)).not.toContain(t.user(OTHER, 'nurse.icu').id);
    // On a schedule with nothing set up: listed first, with the schedule's name.
    const { rows } = await env.deps.db.execute<{ name: string; user_id: string }>(sql`
      SELECT s.name, p.user_id FROM schedule_participants p JOIN schedules s ON s.id = p.schedule_id WHERE p.hospital_id = ${t.hospital.general.id} AND s.is_active LIMIT 1`);
    expect(rows[0]).toBeDefined();
    expect(list.users[0]?.schedules).toContain(rows[0]!.name);

    await verified('nurse.icu', 'sms', '+15550100321');
    const now = (await admin.notifications.unreachable.query()).users.find((u) => u.userId === row.userId);
    // Built-in defaults: SMS is a step for critical and high only.
    expect(now).toMatchObject({ unreachable: ['low', 'medium'], verifiedChannels: ['sms'] });
    await expect(nurse.notifications.unreachable.query()).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
  });
});

describe('notifications.test', () => {
  it('sends a test to each verified contact of the channel, with nothing to answer; refuses a channel with none', async () => {
    await verified('doctor.icu', 'email', 'ivan.test@general.test');
    const doctor = clientFor(server, await t.token('general', 'doctor.icu'));
    expect(await doctor.notifications.test.mutate({ channel: 'email' })).toEqual({ sent: 1, failed: [] });
    expect((await mail.waitFor('ivan.test@general.test')).text).toContain('Clarion test: this is how a page will reach you');
    await expect(doctor.notifications.test.mutate({ channel: 'voice' })).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    await expect(doctor.notifications.test.mutate({ channel: 'pager' as never })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    await verified('doctor.icu', 'sms', '+15550100654');
    phone.failNext(1, 400, { code: 21211, message: "The 'To' number is not valid" });
    const r = await doctor.notifications.test.mutate({ channel: 'sms' });
    expect(r.sent).toBe(0);
    expect(r.failed[0]?.error).toContain('refused (400)');
    expect(await doctor.notifications.test.mutate({ channel: 'sms' })).toMatchObject({ sent: 1 });
    expect(phone.messages.at(-1)?.params).toMatchObject({ To: '+15550100654', Body: 'Clarion test: this is how a page will reach you. Nothing to do.' });
  });

  it('pushConfig says whether Web Push is set up', async () => {
    expect(await nurse.notifications.pushConfig.query()).toEqual({ publicKey: null });
  });
});
