import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import type { Tenants } from '../support/tenants.js';

// Account setup by one-time link, in the browser: the admin creates a user and passes the link on;
// the user opens it in their own browser, chooses a password and lands on their screen; the link
// works once. No SMTP here, so the admin screen shows the link to copy.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;
let admin: Page;
let firstLink = '';
const INVALID = 'This link is no longer valid. Ask your administrator for a new one.';

/** The link points at PUBLIC_URL; the test server listens on its own port, so open its path there. */
const pathOf = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

async function createUser(fields: { name: string; email: string; role: string; department?: string }): Promise<string> {
  await admin.getByRole('button', { name: 'Create user' }).click();
  const form = admin.getByRole('form', { name: 'Create user' });
  await form.getByLabel('Name').fill(fields.name);
  await form.getByLabel('Email').fill(fields.email);
  await form.getByLabel('Role').selectOption(fields.role);
  if (fields.department) await form.getByLabel('Department').selectOption({ label: fields.department });
  await form.getByRole('button', { name: 'Save user' }).click();
  const created = admin.getByRole('region', { name: 'User created' });
  await created.getByLabel('Setup link').waitFor();
  return created.getByLabel('Setup link').inputValue();
}

beforeAll(async () => {
  ({ env, t, server, browser } = await startWebApp());
  admin = (await openScreen(browser, server.url, { token: await t.token('general', 'admin') })).page;
  await admin.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await admin.getByRole('heading', { name: 'Users' }).waitFor({ timeout: 10_000 });
});

describe('account setup by one-time link', () => {
  it('the admin creates a user and sees the setup link to copy (no mail server configured)', async () => {
    firstLink = await createUser({ name: 'Sami Setup', email: 'sami.setup@general.test', role: 'nurse', department: 'Intensive Care' });
    expect(firstLink).toMatch(/\/setup\?token=/);
    const created = admin.getByRole('region', { name: 'User created' });
    await created.getByRole('button', { name: 'Copy link' }).click();
    await created.getByRole('status').filter({ hasText: 'Link copied' }).waitFor();
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(firstLink);
    // The temporary password is still there, as the fallback.
    expect((await created.locator('code.temp-password').textContent())?.length).toBeGreaterThanOrEqual(12);
    await screenshot(admin, 'admin-user-created-setup-link');
    await created.getByRole('button', { name: 'Done' }).click();
  });

  it('the new user opens the link, sees whose account it is, sets a password and lands on their board', async () => {
    const { page, context } = await openScreen(browser, server.url, { path: pathOf(firstLink) });
    await page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    // The token left the address bar as soon as the page read it.
    expect(page.url()).toBe(`${server.url}/setup`);
    const who = page.getByRole('definition');
    await who.filter({ hasText: 'Sami Setup' }).waitFor();
    await who.filter({ hasText: 'sami.setup@general.test' }).waitFor();
    await who.filter({ hasText: 'Nurse · General Hospital' }).waitFor();
    expect(await page.getByLabel('Authentication code').count()).toBe(0);

    // The server's password rule (the shared zod schema), then the confirmation.
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('Confirm password').fill('short');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByText('Use at least 12 characters').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('Sami-chooses-a-password-1');
    await page.getByLabel('Confirm password').fill('Sami-chooses-a-passw0rd-1');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByText('The two passwords do not match').waitFor();
    await screenshot(page, 'account-setup');
    await page.getByLabel('Confirm password').fill('Sami-chooses-a-password-1');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();

    await page.getByRole('heading', { name: 'Intensive Care board' }).waitFor({ timeout: 10_000 });
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('clarion.token'))).toBeTruthy();
    await screenshot(page, 'account-setup-done');
    const [row] = (await env.deps.db.execute<{ email_verified: boolean; must_change_password: boolean }>(
      sql`SELECT email_verified, must_change_password FROM users WHERE email = 'sami.setup@general.test'`,
    )).rows;
    expect(row).toEqual({ email_verified: true, must_change_password: false });
    await context.close();
  });

  it('the same link opened again shows the plain "no longer valid" message', async () => {
    const { page, context } = await openScreen(browser, server.url, { path: pathOf(firstLink) });
    await page.getByRole('alert').filter({ hasText: INVALID }).waitFor();
    expect(await page.getByLabel('New password', { exact: true }).count()).toBe(0);
    expect(page.url()).toBe(`${server.url}/setup`);
    await screenshot(page, 'account-setup-invalid');
    // Reloading the cleaned address has no token at all: the same message, and a way to sign in.
    await page.reload();
    await page.getByRole('alert').filter({ hasText: INVALID }).waitFor();
    await page.getByRole('link', { name: 'Go to sign in' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  it('"Send new setup link" gives a fresh link; only the newest one works', async () => {
    await admin.getByRole('button', { name: 'Edit Sami Setup' }).click();
    const editor = admin.getByRole('region', { name: 'Edit Sami Setup' });
    await editor.getByRole('button', { name: 'Send new setup link' }).click();
    const second = await editor.getByLabel('Setup link').inputValue();
    await editor.getByRole('button', { name: 'Send new setup link' }).click();
    await admin.waitForFunction((old) => (document.querySelector('.setup-link-url') as HTMLInputElement | null)?.value !== old, second);
    const third = await editor.getByLabel('Setup link').inputValue();
    expect(new Set([firstLink, second, third]).size).toBe(3);
    await screenshot(admin, 'admin-send-setup-link');

    // The replaced link is refused like a spent one …
    const old = await openScreen(browser, server.url, { path: pathOf(second) });
    await old.page.getByRole('alert').filter({ hasText: INVALID }).waitFor();
    await old.context.close();
    // … the newest sets a new password (purpose: reset, since Sami has already verified the email).
    const { page, context } = await openScreen(browser, server.url, { path: pathOf(third) });
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('New password', { exact: true }).fill('Sami-second-password-22');
    await page.getByLabel('Confirm password').fill('Sami-second-password-22');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('heading', { name: 'Intensive Care board' }).waitFor({ timeout: 10_000 });
    await context.close();
  });

  it('a head doctor whose role requires 2FA continues from the link into two-factor setup', async () => {
    await env.deps.db.execute(
      sql`UPDATE hospitals SET settings = jsonb_set(settings, '{requireTwoFactorFor}', '["admin","head_doctor"]'::jsonb) WHERE id = ${t.hospital.general.id}`,
    );
    await admin.getByRole('button', { name: 'Close' }).click();
    const link = await createUser({ name: 'Dr. Hana Head', email: 'hana.head@general.test', role: 'head_doctor' });
    await admin.getByRole('region', { name: 'User created' }).getByRole('button', { name: 'Done' }).click();
    const { page, context } = await openScreen(browser, server.url, { path: pathOf(link) });
    await page.getByText('Next, your role requires two-factor authentication').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('Hana-heads-the-ward-33');
    await page.getByLabel('Confirm password').fill('Hana-heads-the-ward-33');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor({ timeout: 10_000 });
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    await context.close();
  });
});
