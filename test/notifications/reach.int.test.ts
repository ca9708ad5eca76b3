import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Mailbox, startMailbox } from '../accounts/helpers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { trpcError } from '../support/errors.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Channels issue, part 1: a person's own rules and verified contacts. Codes travel over the real
// protocol peers (an SMTP server, the SMS/voice provider's REST shape) and are typed back.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let mail: Mailbox;
let phone: TelephonyPeer;
let nurse: ReturnType<typeof clientFor>;
let doctor: ReturnType<typeof clientFor>;
let riverside: ReturnType<typeof clientFor>;

beforeAll(async () => {
  mail = await startMailbox();
  phone = await startTelephonyPeer();
  env = await createTestEnv({
    SMTP_URL: mail.url,
    TELEPHONY_URL: phone.baseUrl,
    TELEPHONY_ACCOUNT_SID: phone.accountSid,
    TELEPHONY_AUTH_TOKEN: phone.authToken,
    TELEPHONY_FROM: '+15550100000',
  });
  server = await startTestServer(env);
  t = await seedTenants(env);
  nurse = clientFor(server, await t.token('general', 'nurse.icu'));
  doctor = clientFor(server, await t.token('general', 'doctor.icu'));
  riverside = clientFor(server, await t.token('riverside', 'nurse.icu'));
});
beforeEach(() => phone.reset());

const codeIn = (text: string) => /code is (\d{6})/.exec(text)?.[1] ?? /code is ((?:\d, ){5}\d)/.exec(text)?.[1]?.replace(/, /g, '');
const audit = async (action: string) =>
  (await env.deps.db.execute<{ metadata: Record<string, unknown>; outcome: string }>(sql`SELECT metadata, outcome FROM audit_logs WHERE action = ${action} ORDER BY id`)).rows;
/** Lets the resend guard (one code per 30 s) pass without waiting. */
const ageCodes = () => env.deps.db.execute(sql`UPDATE contacts SET code_sent_at = now() - interval '1 minute'`);

describe('notification rules', () => {
  it('starts from the defaults, unreachable everywhere with no contact; saves my own rules, audited', async () => {
    const first = await nurse.notifications.getRules.query();
    expect(first.custom).toBe(false);
    expect(first.rules.critical.map((s) => s.channel)).toEqual(['push', 'sms', 'voice']);
    expect(first.unreachable).toEqual(['low', 'medium', 'high', 'critical']);
    const rules = { critical: [{ channel: 'email' as const, delaySeconds: 0 }, { channel: 'sms' as const, delaySeconds: 30 }], high: [{ channel: 'email' as const, delaySeconds: 0 }], medium: [], low: [] };
    const saved = await nurse.notifications.setRules.mutate({ rules });
    expect(saved).toMatchObject({ custom: true, rules });
    expect((await nurse.notifications.getRules.query()).rules).toEqual(rules);
    expect((await audit('notification.rules_set')).at(-1)?.metadata).toEqual({ rules });
    // Another person's rules are untouched.
    expect((await doctor.notifications.getRules.query()).custom).toBe(false);
  });

  it('refuses steps that wait less than the one before, unknown channels and long delays, saving nothing', async () => {
    const before = await nurse.notifications.getRules.query();
    const bad = [
      { critical: [{ channel: 'sms', delaySeconds: 60 }, { channel: 'voice', delaySeconds: 30 }], high: [], medium: [], low: [] },
      { critical: [{ channel: 'pigeon', delaySeconds: 0 }], high: [], medium: [], low: [] },
      { critical: [{ channel: 'sms', delaySeconds: 7_200 }], high: [], medium: [], low: [] },
      { critical: [] },
    ];
    for (const rules of bad) expect((await trpcError(nurse.notifications.setRules.mutate({ rules } as never))).code).toBe('BAD_REQUEST');
    const err = await trpcError(nurse.notifications.setRules.mutate({ rules: bad[0] } as never));
    expect(err.fieldErrors?.rules).toEqual(['Each step waits at least as long as the one before']);
    expect(await nurse.notifications.getRules.query()).toEqual(before);
  });
});

describe('contacts', () => {
  it('verifies an email address with the code mailed to it; the address becomes reachable', async () => {
    const c = await nurse.notifications.addContact.mutate({ channel: 'email', address: 'Nia.Pager@General.test' });
    expect(c).toMatchObject({ channel: 'email', address: 'nia.pager@general.test', verified: false });
    const code = codeIn((await mail.waitFor('nia.pager@general.test')).text);
    expect(code).toMatch(/^\d{6}$/);
    // The code is never stored in clear.
    const stored = (await env.deps.db.execute<{ code_hash: string }>(sql`SELECT code_hash FROM contacts WHERE id = ${c.id}`)).rows[0]!.code_hash;
    expect(stored).not.toContain(code!);
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await trpcError(nurse.notifications.verifyContact.mutate({ contactId: c.id, code: wrong }))).fieldErrors?.code).toEqual(['That code is not right']);
    const ok = await nurse.notifications.verifyContact.mutate({ contactId: c.id, code: code! });
    expect(ok.verified).toBe(true);
    const rules = await nurse.notifications.getRules.query();
    expect(rules.unreachable).not.toContain('critical');
    expect(rules.contacts.map((x) => x.id)).toContain(c.id);
    // Audited with the address masked.
    expect((await audit('contact.verified')).at(-1)?.metadata).toEqual({ channel: 'email', address: 'n•••@general.test' });
    expect(JSON.stringify(await audit('contact.added'))).not.toContain('nia.pager@');
  });

  it('sends an SMS code and a voice code through the provider; the spoken code verifies too', async () => {
    const sms = await doctor.notifications.addContact.mutate({ channel: 'sms', address: '+15550100123' });
    expect(phone.messages).toHaveLength(1);
    expect(phone.messages[0]!.params).toMatchObject({ To: '+15550100123', From: '+15550100000' });
    await doctor.notifications.verifyContact.mutate({ contactId: sms.id, code: codeIn(phone.messages[0]!.params.Body!)! });
    const voice = await doctor.notifications.addContact.mutate({ channel: 'voice', address: '+15550100123' });
    expect(phone.calls).toHaveLength(1);
    const spoken = codeIn(phone.calls[0]!.params.Twiml!);
    expect(spoken).toMatch(/^\d{6}$/);
    expect((await doctor.notifications.verifyContact.mutate({ contactId: voice.id, code: spoken! })).verified).toBe(true);
  });

  it('five wrong codes use the code up; a resend within 30 s is refused; a new code then works', async () => {
    const c = await nurse.notifications.addContact.mutate({ channel: 'sms', address: '+15550100777' });
    const code = codeIn(phone.messages.at(-1)!.params.Body!)!;
    const wrong = code === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) await trpcError(nurse.notifications.verifyContact.mutate({ contactId: c.id, code: wrong }));
    expect((await trpcError(nurse.notifications.verifyContact.mutate({ contactId: c.id, code }))).message).toMatch(/expired/);
    expect((await trpcError(nurse.notifications.addContact.mutate({ channel: 'sms', address: '+15550100777' }))).code).toBe('TOO_MANY_REQUESTS');
    await ageCodes();
    await nurse.notifications.addContact.mutate({ channel: 'sms', address: '+15550100777' });
    const fresh = codeIn(phone.messages.at(-1)!.params.Body!)!;
    expect((await nurse.notifications.verifyContact.mutate({ contactId: c.id, code: fresh })).verified).toBe(true);
    expect((await audit('contact.verify_failed')).length).toBeGreaterThanOrEqual(6);
  });

  it('a provider that refuses the number is the address’s error; one that is down is SERVICE_UNAVAILABLE', async () => {
    phone.failNext(1, 400, { code: 21211, message: 'Invalid To' });
    const refused = await trpcError(nurse.notifications.addContact.mutate({ channel: 'sms', address: '+15550100888' }));
    expect(refused.code).toBe('BAD_REQUEST');
    expect(refused.fieldErrors?.address).toEqual(['The provider refused this number']);
    await ageCodes();
    phone.failNext(1, 503);
    expect((await trpcError(nurse.notifications.addContact.mutate({ channel: 'sms', address: '+15550100888' }))).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('registers a push subscription as verified; contacts stay their owner’s: another person or hospital gets NOT_FOUND', async () => {
    const sub = { endpoint: 'https://push.example.test/send/abc', keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) } };
    const push = await nurse.notifications.registerPush.mutate({ subscription: sub });
    expect(push).toMatchObject({ channel: 'push', verified: true });
    // Re-registering the same endpoint refreshes it rather than adding a second.
    expect((await nurse.notifications.registerPush.mutate({ subscription: sub })).id).toBe(push.id);
    expect((await trpcError(doctor.notifications.removeContact.mutate({ contactId: push.id }))).code).toBe('NOT_FOUND');
    expect((await trpcError(riverside.notifications.verifyContact.mutate({ contactId: push.id, code: '123456' }))).code).toBe('NOT_FOUND');
    expect((await doctor.notifications.getRules.query()).contacts.map((c) => c.id)).not.toContain(push.id);
    await nurse.notifications.removeContact.mutate({ contactId: push.id });
    expect((await nurse.notifications.getRules.query()).contacts.map((c) => c.id)).not.toContain(push.id);
  });

  it('refuses malformed addresses in words and stores nothing', async () => {
    const count = async () => Number((await env.deps.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM contacts`)).rows[0]!.n);
    const before = await count();
    for (const input of [
      { channel: 'sms', address: '555-0100' },
      { channel: 'email', address: 'not-an-email' },
      { channel: 'webhook', address: 'ftp://pager.example' },
      { channel: 'push', address: 'https://x.example' },
    ])
      expect((await trpcError(nurse.notifications.addContact.mutate(input as never))).code).toBe('BAD_REQUEST');
    expect((await trpcError(nurse.notifications.addContact.mutate({ channel: 'sms', address: '555-0100' }))).fieldErrors?.address?.[0]).toMatch(/country code/);
    expect(await count()).toBe(before);
  });
});
