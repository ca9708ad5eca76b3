import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Mailbox, startMailbox } from '../accounts/helpers.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';

// Channels issue, web part 1: "How Clarion reaches me". Codes travel over the real protocol peers
// (an SMTP server, the SMS provider's REST shape) and are typed back into the page by a person.
let app: WebApp;
let mail: Mailbox;
let phone: TelephonyPeer;

beforeAll(async () => {
  mail = await startMailbox();
  phone = await startTelephonyPeer();
  app = await startWebApp({
    SMTP_URL: mail.url,
    TELEPHONY_URL: phone.baseUrl,
    TELEPHONY_ACCOUNT_SID: phone.accountSid,
    TELEPHONY_AUTH_TOKEN: phone.authToken,
    TELEPHONY_FROM: '+15550100000',
  });
});
beforeEach(() => phone.reset());

const codeIn = (text: string) => /code is (\d{6})/.exec(text)?.[1] as string;
const otherThan = (code: string) => (code === '000000' ? '111111' : '000000');
const rows = async <T>(q: ReturnType<typeof sql>) => (await app.env.deps.db.execute<T & Record<string, unknown>>(q)).rows;
const contactsOf = (account: string) =>
  rows<{ id: string; channel: string; address: string; verified_at: Date | null }>(
    sql`SELECT id, channel, address, verified_at FROM contacts WHERE user_id = ${app.t.user('general', account).id} ORDER BY created_at`,
  );
const rulesOf = async (account: string) => (await rows<{ rules: unknown; updated_at: Date }>(sql`SELECT rules, updated_at FROM notification_rules WHERE user_id = ${app.t.user('general', account).id}`))[0];

async function open(account: string, size = { width: 390, height: 844 }): Promise<Page> {
  const { page } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', account), path: '/#/reach', ...size });
  await page.getByRole('heading', { name: 'How Clarion reaches me', level: 1 }).waitFor();
  return page;
}
const warning = (page: Page) => page.locator('.reach-warning');
const isFocused = (page: Page, label: string) => page.getByLabel(label).evaluate((el) => el === document.activeElement);
/** Visible controls under 44 px tall at phone size (the same measure as small-screens.e2e). */
const smallTargets = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, a[href], input:not([type=checkbox]):not([type=radio]), select')]
      .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 43.5)
      .map((el) => (el.getAttribute('aria-label') ?? el.textContent ?? el.tagName).trim()),
  );

async function expectAccessible(page: Page) {
  const violations = await axeViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

describe('how Clarion reaches me', () => {
  it('warns on first open; an SMS number is verified with the code the provider sent, a wrong code refused in words', async () => {
    const page = await open('nurse.icu');
    await page.getByRole('link', { name: 'Reach me' }).waitFor();
    expect(await warning(page).textContent()).toBe('Pages of Critical, High, Medium and Low priority reach your screens only: add and verify a phone or email.');
    await page.getByText('No contacts yet').waitFor();
    await expectAccessible(page);

    expect(await page.getByLabel('Channel').inputValue()).toBe('sms');
    expect(await page.getByLabel('Mobile number').getAttribute('type')).toBe('tel');
    await page.getByText('+15550100123 with the country code').waitFor();
    // A number without its country code is refused before anything is sent.
    await page.getByLabel('Mobile number').fill('555-0100');
    await page.getByRole('button', { name: 'Add and send a code' }).click();
    await page.getByText('Enter the number with its country code, e.g. +15550100123').waitFor();
    expect(phone.messages).toHaveLength(0);

    await page.getByLabel('Mobile number').fill('+15550100123');
    await page.getByRole('button', { name: 'Add and send a code' }).click();
    const codeLabel = 'Code sent to +15550100123';
    await page.getByLabel(codeLabel).waitFor();
    expect(await isFocused(page, codeLabel)).toBe(true);
    await page.getByText('Waiting for the code').waitFor();
    expect(phone.messages).toHaveLength(1);
    expect(phone.messages[0]!.params.To).toBe('+15550100123');
    const code = codeIn(phone.messages[0]!.params.Body!);
    expect(code).toMatch(/^\d{6}$/);

    await page.getByLabel(codeLabel).fill(otherThan(code));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('.field-message').filter({ hasText: 'That code is not right' }).waitFor();
    expect(await page.getByLabel(codeLabel).getAttribute('aria-invalid')).toBe('true');
    expect((await contactsOf('nurse.icu'))[0]!.verified_at).toBeNull();
    // The layout holds at 390 px with a code waiting: nothing wider than the screen, 44 px targets.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await smallTargets(page)).toEqual([]);
    await screenshot(page, 'reach-390-full', { fullPage: true });
    await expectAccessible(page);

    await page.getByLabel(codeLabel).fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Verified ✓').waitFor();
    // Critical and high (push, SMS, call by default) now reach the phone; medium and low are push only.
    await page.getByText('Pages of Medium and Low priority').waitFor();
    expect(await warning(page).textContent()).not.toMatch(/Critical|High/);
    const [row] = await contactsOf('nurse.icu');
    expect(row).toMatchObject({ channel: 'sms', address: '+15550100123' });
    expect(row!.verified_at).not.toBeNull();
  });

  it('an email address is verified with the code from the mailbox (docs screenshot at 390×844)', async () => {
    const page = await open('nurse.icu');
    await page.getByLabel('Channel').selectOption('email');
    expect(await page.getByLabel('Email address').getAttribute('type')).toBe('email');
    await page.getByLabel('Email address').fill('Nia.Pager@General.test');
    await page.getByRole('button', { name: 'Add and send a code' }).click();
    const codeLabel = 'Code sent to nia.pager@general.test';
    await page.getByLabel(codeLabel).waitFor();
    expect(await isFocused(page, codeLabel)).toBe(true);
    await page.getByText('A code was sent to nia.pager@general.test').waitFor();
    await screenshot(page, 'reach', { docs: true });

    const code = codeIn((await mail.waitFor('nia.pager@general.test')).text);
    await page.getByLabel(codeLabel).fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('listitem').filter({ hasText: 'nia.pager@general.test' }).getByText('Verified ✓').waitFor();
    const email = (await contactsOf('nurse.icu')).find((c) => c.channel === 'email');
    expect(email?.verified_at).not.toBeNull();

    // Send test: a real message to that mailbox, and the page says so.
    const before = mail.messages.length;
    await page.getByRole('button', { name: 'Send a test Email to nia.pager@general.test' }).click();
    await page.getByText('Test sent (1): check that it arrived.').waitFor();
    const test = await mail.waitFor('nia.pager@general.test');
    expect(mail.messages.length).toBe(before + 1);
    expect(test.text).toContain('Clarion test: this is how a page will reach you');
  });

  it('edits critical steps (push now, SMS after 30, call after 60) and saves exactly them; a decreasing delay is refused in words', async () => {
    const page = await open('doctor.icu', { width: 1366, height: 900 });
    await page.getByRole('heading', { name: 'Rules per priority (default)' }).waitFor();
    expect(await rulesOf('doctor.icu')).toBeUndefined();
    const critical = page.getByRole('group', { name: 'Critical' });
    const step = (n: number) => critical.getByRole('listitem').nth(n - 1);
    // Start from nothing: remove the three default steps, then build the list again.
    for (let i = 3; i >= 1; i--) await critical.getByRole('button', { name: `Remove Critical step ${i}` }).click();
    await critical.getByText('No steps: critical pages reach your screens only.').waitFor();
    for (let i = 0; i < 3; i++) await critical.getByRole('button', { name: 'Add step to Critical' }).click();
    await step(1).getByLabel('Step 1', { exact: true }).selectOption('voice');
    await step(2).getByLabel('Step 2', { exact: true }).selectOption('push');
    await step(3).getByLabel('Step 3', { exact: true }).selectOption('sms');
    await step(1).getByLabel('After (seconds)').fill('0');
    await step(2).getByLabel('After (seconds)').fill('30');
    await step(3).getByLabel('After (seconds)').fill('60');
    // Moving a step swaps the channels and keeps the times in order: push first, call last.
    await critical.getByRole('button', { name: 'Move Critical step 2 up' }).click();
    await critical.getByRole('button', { name: 'Move Critical step 2 down' }).click();
    expect(await Promise.all([1, 2, 3].map((n) => step(n).getByLabel(`Step ${n}`, { exact: true }).inputValue()))).toEqual(['push', 'sms', 'voice']);
    expect(await Promise.all([1, 2, 3].map((n) => step(n).getByLabel('After (seconds)').inputValue()))).toEqual(['0', '30', '60']);
    // The doctor has no verified phone yet: the steps say they will be skipped.
    await step(2).getByText('Skipped: no verified SMS number yet').waitFor();
    await step(3).getByText('Skipped: no verified phone number for calls yet').waitFor();
    await page.getByText('Push steps are skipped until a device of yours gets push notifications').waitFor();

    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByRole('status').filter({ hasText: 'Rules saved' }).waitFor();
    await page.getByRole('heading', { name: 'Rules per priority', exact: true }).waitFor();
    const saved = await rulesOf('doctor.icu');
    expect(saved?.rules).toEqual({
      critical: [
        { channel: 'push', delaySeconds: 0 },
        { channel: 'sms', delaySeconds: 30 },
        { channel: 'voice', delaySeconds: 60 },
      ],
      high: [
        { channel: 'push', delaySeconds: 0 },
        { channel: 'sms', delaySeconds: 60 },
      ],
      medium: [{ channel: 'push', delaySeconds: 0 }],
      low: [{ channel: 'push', delaySeconds: 0 }],
    });

    // A step that waits less than the one before: the error sits on that step, in words, and nothing is saved.
    await step(3).getByLabel('After (seconds)').fill('20');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await step(3).getByText('Each step waits at least as long as the one before').waitFor();
    await page.getByText('1 field needs a correction.').waitFor();
    expect(await step(3).getByLabel('After (seconds)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.reach-rules').textContent()).not.toMatch(/Too small|expected|Invalid/);
    expect(await page.getByRole('status').filter({ hasText: 'Rules saved' }).count()).toBe(0);
    await screenshot(page, 'reach-1366-error', { fullPage: true });
    await expectAccessible(page);
    expect(await rulesOf('doctor.icu')).toEqual(saved);
  });

  it('removes a contact after a confirmation; Back keeps it', async () => {
    const page = await open('nurse.er');
    await page.getByLabel('Channel').selectOption('voice');
    await page.getByLabel('Phone number').fill('+15550100456');
    await page.getByRole('button', { name: 'Add and send a code' }).click();
    await page.getByLabel('Code from the call to +15550100456').waitFor();
    expect(phone.calls).toHaveLength(1);
    expect(await contactsOf('nurse.er')).toHaveLength(1);

    const remove = page.getByRole('button', { name: 'Remove Phone call +15550100456' });
    await remove.click();
    const dialog = page.getByRole('dialog', { name: 'Remove +15550100456?' });
    await dialog.waitFor();
    await screenshot(page, 'reach-remove-390');
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await contactsOf('nurse.er')).toHaveLength(1);

    await remove.click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('No contacts yet').waitFor();
    expect(await contactsOf('nurse.er')).toEqual([]);
  });
});
