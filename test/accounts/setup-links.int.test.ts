import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverLink, issueLink } from '../../server/accounts/links.js';
import { newSetupToken } from '../../server/accounts/tokens.js';
import { verifyPassword } from '../../server/auth/passwords.js';
import { hospitals, setupTokens, users } from '../../server/db/schema.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { GOOD_PASSWORD, type Mailbox, startMailbox, tokenIn, totpFor, trpcError } from './helpers.js';

let mail: Mailbox;
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;
let anonymous: ReturnType<typeof clientFor>;
let n = 0;

beforeAll(async () => {
  mail = await startMailbox();
  env = await createTestEnv({ SMTP_URL: mail.url, MAIL_FROM: 'Clarion <clarion@hospital.test>', PUBLIC_URL: 'https://clarion.hospital.test' });
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
  anonymous = clientFor(server);
});

const userRow = async (id: string) => (await env.deps.db.select().from(users).where(eq(users.id, id)))[0] as typeof users.$inferSelect;
const audit = async (action: string, resourceId?: string) =>
  (
    await env.deps.db.execute<{ outcome: string; user_id: string | null; hospital_id: string | null; user_agent: string | null; metadata: Record<string, unknown> | null }>(
      sql`SELECT outcome::text AS outcome, user_id, hospital_id, user_agent, metadata FROM audit_logs
          WHERE action = ${action} AND (${resourceId ?? null}::text IS NULL OR resource_id = ${resourceId ?? null}) ORDER BY seq`,
    )
  ).rows;
const snapshot = async () =>
  (
    await env.deps.db.execute(sql`SELECT
      (SELECT string_agg(id || coalesce(password_hash, '-') || email_verified || must_change_password, ',' ORDER BY id) FROM users) AS users,
      (SELECT count(*) FROM sessions WHERE revoked_at IS NULL) AS sessions,
      (SELECT string_agg(id || coalesce(used_at::text, '-') || coalesce(revoked_at::text, '-'), ',' ORDER BY id) FROM setup_tokens) AS links`)
  ).rows[0];

/** An operator created by the admin through the API, and the token of the link emailed to them. */
async function createOperator() {
  const email = `new.op${++n}@general.test`;
  const res = await admin.users.create.mutate({ name: `New Operator ${n}`, email, role: 'operator' });
  const message = await mail.waitFor(email);
  return { res, email, message, token: tokenIn(message.text) };
}

describe('setup links by email', () => {
  it('admin creates a user → the link is emailed → completeSetup → sign-in works', async () => {
    const { res, email, message, token } = await createOperator();
    // Emailed, so the admin's answer does not carry the link (only the user holds it).
    expect(res.setupLink).toMatchObject({ url: null, emailed: true });
    expect(Date.parse(res.setupLink.expiresAt) - Date.now()).toBeGreaterThan(71 * 3_600_000);
    expect(message.raw).toMatch(/^Subject: Set up your Clarion account at General Hospital/m);
    expect(message.raw).toMatch(/^From: Clarion <clarion@hospital\.test>/m);
    expect(message.text).toContain(`https://clarion.hospital.test/setup?token=${token}`);

    // Only the hash is stored.
    const [stored] = await env.deps.db.select().from(setupTokens).where(eq(setupTokens.userId, res.user.id));
    expect(stored?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await env.deps.db.select().from(setupTokens))).not.toContain(token.split('.')[1]);

    const info = await anonymous.accounts.getSetupInfo.mutate({ token });
    expect(info).toMatchObject({ email, role: 'operator', hospitalName: 'General Hospital', purpose: 'account_setup', twoFactorCodeRequired: false, twoFactorSetupRequired: false });

    // A password that breaks the policy is a field error, and the link still works afterwards.
    const weak = await trpcError(anonymous.accounts.completeSetup.mutate({ token, password: email }));
    expect(weak.code).toBe('BAD_REQUEST');
    expect(weak.fieldErrors?.password?.[0]).toMatch(/email address/);

    const done = await anonymous.accounts.completeSetup.mutate({ token, password: GOOD_PASSWORD });
    expect(done.status).toBe('ok');
    expect(done.user).toMatchObject({ id: res.user.id, mustChangePassword: false, mustSetupTwoFactor: false });
    const row = await userRow(res.user.id);
    expect(row).toMatchObject({ emailVerified: true, mustChangePassword: false });
    expect(await verifyPassword(GOOD_PASSWORD, row.passwordHash as string)).toBe(true);

    // The session works at once, sign-in with the new password works, the temporary password no longer does.
    expect((await clientFor(server, done.token).auth.me.query()).email).toBe(email);
    const login = await anonymous.auth.login.mutate({ email, password: GOOD_PASSWORD });
    expect(login.status).toBe('ok');
    expect((await trpcError(anonymous.auth.login.mutate({ email, password: res.temporaryPassword }))).code).toBe('UNAUTHORIZED');
    expect((await admin.users.getById.query({ id: res.user.id })).emailVerified).toBe(true);

    const adminId = t.user('general', 'admin').id;
    expect(await audit('account.setup_link_issued', res.user.id)).toMatchObject([{ outcome: 'success', user_id: adminId, metadata: { purpose: 'account_setup' } }]);
    expect(await audit('account.setup_link_emailed', res.user.id)).toMatchObject([{ outcome: 'success', user_id: adminId }]);
    expect(await audit('account.setup_completed', res.user.id)).toMatchObject([
      { outcome: 'failure', user_id: res.user.id, metadata: { reason: 'policy' } },
      { outcome: 'success', user_id: res.user.id, hospital_id: t.hospital.general.id, metadata: { emailVerified: true } },
    ]);
    // No audit row carries the token.
    const { rows } = await env.deps.db.execute(sql`SELECT metadata::text AS m FROM audit_logs WHERE metadata::text LIKE ${`%${token.split('.')[1]}%`}`);
    expect(rows).toHaveLength(0);
  });

  it('refuses a reused, tampered, expired or revoked link with UNAUTHORIZED and changes nothing', async () => {
    const { res, token } = await createOperator();
    await anonymous.accounts.completeSetup.mutate({ token, password: GOOD_PASSWORD });

    const [exp, nonce, sig] = token.split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const second = await createOperator();
    // Expired in the database (the signed expiry is still ahead) and expired by its signed expiry.
    const third = await createOperator();
    await env.deps.db.update(setupTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(setupTokens.userId, third.res.user.id));
    const signedExpired = newSetupToken(env.config.secrets.tokenSecret, new Date(Date.now() - 1000));
    // Revoked: the admin issued a newer link.
    const fourth = await createOperator();
    await admin.accounts.issueSetupLink.mutate({ id: fourth.res.user.id });

    const cases = {
      used: token,
      tampered_signature: `${exp}.${nonce}.${flip(sig)}`,
      tampered_expiry: `${Number(exp) + 86_400}.${nonce}.${sig}`,
      tampered_nonce: `${second.token.split('.')[0]}.${flip(second.token.split('.')[1] as string)}.${second.token.split('.')[2]}`,
      forged_other_secret: newSetupToken('x'.repeat(40), new Date(Date.now() + 3_600_000)),
      expired_in_db: third.token,
      expired_signed: signedExpired,
      revoked: fourth.token,
      garbage: 'not-a-token',
    };
    const before = await snapshot();
    const messages = new Set<string>();
    for (const [name, bad] of Object.entries(cases)) {
      for (const call of [() => anonymous.accounts.completeSetup.mutate({ token: bad, password: GOOD_PASSWORD }), () => anonymous.accounts.getSetupInfo.mutate({ token: bad })]) {
        const err = await trpcError(call());
        expect(err.code, name).toBe('UNAUTHORIZED');
        messages.add(err.message);
      }
    }
    // One answer for all of them: the client cannot tell which check failed.
    expect([...messages]).toEqual(['This setup link is not valid or has expired; ask your administrator for a new one']);
    expect(await snapshot()).toEqual(before);
    expect((await userRow(third.res.user.id)).emailVerified).toBe(false);

    const refused = await audit('account.setup_link_refused');
    const reasons = new Set(refused.map((r) => r.metadata?.reason));
    for (const r of ['used', 'bad_signature', 'malformed', 'expired', 'revoked']) expect(reasons, r).toContain(r);
    // A refused link of a known user is on that user's hospital chain; a forged one on the system chain.
    expect(refused.find((r) => r.metadata?.reason === 'used')).toMatchObject({ outcome: 'failure', user_id: res.user.id, hospital_id: t.hospital.general.id });
    expect(refused.find((r) => r.metadata?.reason === 'bad_signature')).toMatchObject({ user_id: null, hospital_id: null });
    // The second user's untampered link still works.
    expect((await anonymous.accounts.completeSetup.mutate({ token: second.token, password: GOOD_PASSWORD })).status).toBe('ok');
  });

  it('spends a link once under concurrent use', async () => {
    const { token } = await createOperator();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => anonymous.accounts.completeSetup.mutate({ token, password: GOOD_PASSWORD })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('walks through 2FA when the hospital requires it, and asks for a code when the user already has 2FA', async () => {
    await env.deps.db
      .update(hospitals)
      .set({ settings: sql`jsonb_set(${hospitals.settings}, '{requireTwoFactorFor}', '["operator"]')` })
      .where(eq(hospitals.id, t.hospital.general.id));
    try {
      const { res, token, email } = await createOperator();
      expect((await anonymous.accounts.getSetupInfo.mutate({ token })).twoFactorSetupRequired).toBe(true);
      const done = await anonymous.accounts.completeSetup.mutate({ token, password: GOOD_PASSWORD });
      expect(done.user.mustSetupTwoFactor).toBe(true);
      const me = clientFor(server, done.token);
      expect((await trpcError(me.alerts.getActive.query())).code).toBe('FORBIDDEN');
      const setup = await me.auth.setupTwoFactor.mutate();
      await me.auth.enableTwoFactor.mutate({ totp: await totpFor(setup.otpauthUri) });
      expect((await me.alerts.getActive.query()).alerts).toBeInstanceOf(Array);

      // A new link for a user with 2FA: the code is required, and a missing one leaves the link usable.
      const link = await admin.accounts.issueSetupLink.mutate({ id: res.user.id });
      expect(link).toMatchObject({ url: null, emailed: true });
      const again = tokenIn((await mail.waitFor(email)).text);
      expect(again).not.toBe(token);
      expect((await anonymous.accounts.getSetupInfo.mutate({ token: again })).purpose).toBe('password_reset');
      const missing = await trpcError(anonymous.accounts.completeSetup.mutate({ token: again, password: `${GOOD_PASSWORD}!` }));
      expect(missing).toMatchObject({ code: 'BAD_REQUEST' });
      expect(missing.fieldErrors?.totp).toBeDefined();
      const ok = await anonymous.accounts.completeSetup.mutate({ token: again, password: `${GOOD_PASSWORD}!`, totp: setup.backupCodes[0] as string });
      expect(ok.user).toMatchObject({ mustSetupTwoFactor: false, twoFactorEnabled: true });
      // The reset ended the earlier session.
      expect((await trpcError(me.auth.me.query())).code).toBe('UNAUTHORIZED');
    } finally {
      await env.deps.db
        .update(hospitals)
        .set({ settings: sql`jsonb_set(${hospitals.settings}, '{requireTwoFactorFor}', '[]')` })
        .where(eq(hospitals.id, t.hospital.general.id));
    }
  });

  it('issueSetupLink is for admins, and only for users of their hospital', async () => {
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    expect((await trpcError(nurse.accounts.issueSetupLink.mutate({ id: t.user('general', 'operator').id }))).code).toBe('FORBIDDEN');
    expect((await trpcError(admin.accounts.issueSetupLink.mutate({ id: t.user('riverside', 'operator').id }))).code).toBe('NOT_FOUND');
    expect((await trpcError(anonymous.accounts.issueSetupLink.mutate({ id: t.user('general', 'operator').id }))).code).toBe('UNAUTHORIZED');
  });

  it('bulk import emails every new user a link', async () => {
    const rows = [1, 2, 3].map((i) => ({ name: `Bulk Person ${i}`, email: `bulk.person${i}@general.test`, role: 'operator' }));
    const res = await admin.users.bulkCreate.mutate({ users: rows });
    expect(res.created.every((c) => c.setupLink.emailed && c.setupLink.url === null)).toBe(true);
    for (const r of rows) expect(tokenIn((await mail.waitFor(r.email)).text)).toBeTruthy();
    expect(await audit('account.setup_link_issued', res.created[0]?.user.id)).toHaveLength(1);
  });

  it('a password change by the user revokes their open setup links (the admin\'s or mailbox copy stops working)', async () => {
    // A user with a password of their own, for whom the admin issued a reset link they never used.
    const email = `own.password${++n}@general.test`;
    const created = await admin.users.create.mutate({ name: 'Own Password', email, role: 'operator' });
    const first = tokenIn((await mail.waitFor(email)).text);
    const setup = await anonymous.accounts.completeSetup.mutate({ token: first, password: GOOD_PASSWORD });
    if (setup.status !== 'ok') throw new Error('expected a session');
    mail.messages.length = 0;
    await admin.accounts.issueSetupLink.mutate({ id: created.user.id });
    const reset = tokenIn((await mail.waitFor(email)).text);
    // The user remembers their password after all and changes it themselves.
    await clientFor(server, setup.token).auth.changePassword.mutate({ currentPassword: GOOD_PASSWORD, newPassword: `${GOOD_PASSWORD}-changed` });
    const refused = await trpcError(anonymous.accounts.completeSetup.mutate({ token: reset, password: 'Someone-elses-passphrase-7' }));
    expect(refused.code).toBe('UNAUTHORIZED');
    expect(await verifyPassword(`${GOOD_PASSWORD}-changed`, (await userRow(created.user.id)).passwordHash as string)).toBe(true);
    const open = await env.deps.db.execute(sql`SELECT id FROM setup_tokens WHERE user_id = ${created.user.id} AND used_at IS NULL AND revoked_at IS NULL`);
    expect(open.rows).toHaveLength(0);
    expect(await audit('auth.password_change', created.user.id)).toMatchObject([{ outcome: 'success', metadata: { revokedSetupLinks: 1 } }]);
  });

  it('when the mail server cannot be reached, the admin gets the link instead (and the failure is audited)', async () => {
    const operator = t.user('general', 'operator');
    const ctx = { userId: t.user('general', 'admin').id, hospitalId: operator.hospitalId, ip: null, userAgent: 'test', sessionId: null };
    const link = await env.deps.db.transaction((tx) => issueLink(tx, env.config, ctx, { userId: operator.id, hospitalId: operator.hospitalId }, 'password_reset'));
    const broken = { ...env.deps, config: { ...env.config, mail: { ...env.config.mail, smtpUrl: 'smtp://127.0.0.1:1' } } };
    const out = await deliverLink(broken, ctx, link, { email: operator.email, name: 'Olive', hospitalName: 'General Hospital' });
    expect(out).toMatchObject({ emailed: false, url: link.url });
    expect(await audit('account.setup_link_emailed', operator.id)).toMatchObject([{ outcome: 'failure' }]);
  });
});
