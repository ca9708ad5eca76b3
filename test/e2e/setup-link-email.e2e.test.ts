import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mailbox, startMailbox, tokenIn } from '../accounts/helpers.js';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import { clientFor } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';
import { waitUntil } from '../support/worker.js';

// With a mail server configured, the admin screen says the link was emailed (and does not show it);
// the user follows the link from the email. A user who already has 2FA must give a code on /setup.
let t: Tenants;
let mailbox: Mailbox;
let server: RestartableServer;
let browser: Browser;
let admin: Page;
const EMAIL = 'elli.emailed@general.test';

const setupPath = (text: string) => `/setup?token=${tokenIn(text)}`;

beforeAll(async () => {
  mailbox = await startMailbox();
  ({ t, server, browser } = await startWebApp({ SMTP_URL: mailbox.url }));
  admin = (await openScreen(browser, server.url, { token: await t.token('general', 'admin') })).page;
  await admin.getByRole('heading', { name: 'Users' }).waitFor({ timeout: 10_000 });
});

describe('setup links by email', () => {
  it('the admin screen says "Setup link emailed to …" and the user follows the emailed link', async () => {
    await admin.getByRole('button', { name: 'Create user' }).click();
    const form = admin.getByRole('form', { name: 'Create user' });
    await form.getByLabel('Name').fill('Elli Emailed');
    await form.getByLabel('Email').fill(EMAIL);
    await form.getByLabel('Role').selectOption('operator');
    await form.getByRole('button', { name: 'Save user' }).click();
    const created = admin.getByRole('region', { name: 'User created' });
    await created.getByRole('status').filter({ hasText: `Setup link emailed to ${EMAIL}` }).waitFor();
    expect(await created.getByLabel('Setup link').count()).toBe(0); // only the user holds an emailed link
    await screenshot(admin, 'admin-user-created-emailed');
    await created.getByRole('button', { name: 'Done' }).click();

    const mail = await mailbox.waitFor(EMAIL);
    const { page, context } = await openScreen(browser, server.url, { path: setupPath(mail.text) });
    await page.getByRole('definition').filter({ hasText: EMAIL }).waitFor();
    await page.getByLabel('New password', { exact: true }).fill('Elli-picks-a-password-7');
    await page.getByLabel('Confirm password').fill('Elli-picks-a-password-7');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('heading', { name: 'Operator console' }).waitFor({ timeout: 10_000 });
    await context.close();
  });

  it('a user who already has 2FA gives a code on the setup page', async () => {
    // Elli turns on 2FA (over the API, as the setup screen would).
    const login = await clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }).auth.login.mutate({ email: EMAIL, password: 'Elli-picks-a-password-7' });
    if (login.status !== 'ok') throw new Error('expected a session');
    const elli = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, login.token);
    const setup = await elli.auth.setupTwoFactor.mutate();
    const secret = new URL(setup.otpauthUri).searchParams.get('secret') as string;
    await elli.auth.enableTwoFactor.mutate({ totp: await generate({ secret }) });

    // The admin sends a new link: emailed, so the screen says so.
    await admin.getByRole('button', { name: 'Edit Elli Emailed' }).click();
    const editor = admin.getByRole('region', { name: 'Edit Elli Emailed' });
    const before = mailbox.messages.length;
    await editor.getByRole('button', { name: 'Send new setup link' }).click();
    await editor.getByRole('status').filter({ hasText: `Setup link emailed to ${EMAIL}` }).waitFor();
    await waitUntil(() => mailbox.messages.length > before, 5_000, 'the second email');
    const mail = await mailbox.waitFor(EMAIL);

    const { page, context } = await openScreen(browser, server.url, { path: setupPath(mail.text) });
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('New password', { exact: true }).fill('Elli-second-password-88');
    await page.getByLabel('Confirm password').fill('Elli-second-password-88');
    // The code is required (the shared zod rule), and a wrong one is refused by the server.
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByText('Enter the 6-digit code or a backup code').waitFor();
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByText('The code is not valid').waitFor();
    await screenshot(page, 'account-setup-two-factor-code');
    await page.getByLabel('Authentication code').fill(setup.backupCodes[0] as string);
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('heading', { name: 'Operator console' }).waitFor({ timeout: 10_000 });
    await context.close();
  });
});
