import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { authenticateKey } from '../../server/integrations/keys.js';
import { sendDueWebhooks } from '../../server/integrations/webhook-sender.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';

// Integrations issue, web part: Admin › Integrations. A key is shown once, works, and is revoked; a
// webhook to a receiver this file runs gets a real delivery, a 503 shows as the error, Redeliver sends again.
let app: WebApp;
let page: Page;
let receiverUrl = '';
let answer = 204;
let received = 0;

beforeAll(async () => {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answer < 300) received++;
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/clarion`;
  app = await startWebApp();
  ({ page } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'admin'), path: '/#/admin/integrations' }));
  await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor({ timeout: 10_000 });
});

// The a11y sweep sees the empty screen; these see it filled (a key shown once, deliveries, a card layout).
async function expectAccessible(p: Page) {
  const violations = await axeViolations(p);
  expect(violations, describeViolations(violations)).toEqual([]);
}

const raise = (title: string) => {
  const op = app.t.user('general', 'operator');
  return createAlert(app.env.deps, { id: op.id, role: 'operator', hospitalId: op.hospitalId, departmentId: null }, { userId: op.id, hospitalId: op.hospitalId, ip: null, userAgent: 'test', sessionId: null }, {
    title,
    priority: 'high',
    alertType: 'medical',
    departmentId: app.t.hospital.general.departments.ICU,
    roomNumber: '312',
  });
};

describe('Admin › Integrations', () => {
  it('shows empty states, then creates an API key shown once that works, and revokes it', async () => {
    await page.getByText('No API keys yet').waitFor();
    await page.getByText('No webhooks yet').waitFor();
    const form = page.getByRole('form', { name: 'New API key' });
    // The server's own schema, in words.
    await form.getByLabel('Raise and change alerts').uncheck();
    await form.getByRole('button', { name: 'Create key' }).click();
    await form.getByText('Give the key a name').waitFor();
    await form.getByText('Choose at least one scope').waitFor();
    await form.getByLabel('Name').fill('Nurse call ICU');
    await form.getByLabel('Raise and change alerts').check();
    await form.getByLabel('Heartbeat in minutes (optional)').fill('5');
    await form.getByRole('button', { name: 'Create key' }).click();
    const once = page.getByRole('region', { name: 'New API key' });
    await once.getByText("Shown once: store it in the integration's configuration now.").waitFor();
    const key = await once.getByLabel('New API key').inputValue();
    expect(key).toMatch(/^clk_/);
    expect(await authenticateKey(app.env.deps.db, key)).toMatchObject({ hospitalId: app.t.hospital.general.id, scopes: ['alerts:write'] });
    const row = page.getByRole('row', { name: /Nurse call ICU/ });
    await row.getByText(`${key.slice(0, 10)}…`).waitFor();
    await row.getByRole('cell', { name: 'Active' }).waitFor();
    // The docs picture: the key shown once above the form and the list.
    await page.setViewportSize({ width: 1366, height: 900 });
    await screenshot(page, 'integrations', { docs: true });
    await screenshot(page, 'integrations-key-1366', { fullPage: true });
    await expectAccessible(page);
    await once.getByRole('button', { name: 'Done' }).click();
    await once.waitFor({ state: 'detached' });
    // Gone from the page once Done: only the prefix is listed.
    expect(await page.content()).not.toContain(key);

    await row.getByRole('button', { name: 'Revoke Nurse call ICU' }).click();
    await page.getByRole('dialog', { name: 'Revoke Nurse call ICU?' }).getByRole('button', { name: 'Revoke key' }).click();
    await row.getByRole('cell', { name: /^Revoked/ }).waitFor();
    await new Promise((r) => setTimeout(r, 1_100)); // the key cache holds a second
    expect(await authenticateKey(app.env.deps.db, key)).toBeNull();
  });

  it('creates a webhook, shows its deliveries (delivered, a 503), and redelivers', async () => {
    const form = page.getByRole('form', { name: 'New webhook' });
    await form.getByLabel('URL').fill('not a url');
    await form.getByRole('button', { name: 'Create webhook' }).click();
    await form.getByText('Enter an http(s):// address').waitFor();
    await form.getByLabel('URL').fill(receiverUrl);
    await form.getByLabel('Acknowledged').check();
    await form.getByRole('button', { name: 'Create webhook' }).click();
    const once = page.getByRole('region', { name: 'Signing secret' });
    expect(await once.getByLabel('Signing secret').inputValue()).toMatch(/^whsec_/);
    await once.getByRole('button', { name: 'Done' }).click();
    const hook = page.getByRole('listitem', { name: `Webhook ${receiverUrl}` });
    await hook.getByText('Alert raised, Acknowledged').waitFor();

    await raise('Webhook e2e: cardiac arrest');
    await sendDueWebhooks(app.env.deps);
    expect(received).toBe(1);
    await hook.getByRole('button', { name: 'Show deliveries' }).click();
    const delivery = hook.getByRole('row', { name: /Alert raised/ });
    await delivery.getByRole('cell', { name: /Delivered/ }).waitFor();
    await delivery.getByRole('cell', { name: 'HTTP 204' }).waitFor();

    // The receiver is down: Redeliver, the try fails, the answer and the next try show.
    answer = 503;
    await delivery.getByRole('button', { name: /^Redeliver/ }).click();
    await delivery.getByRole('cell', { name: 'Waiting to send' }).waitFor();
    await sendDueWebhooks(app.env.deps);
    await hook.getByRole('button', { name: 'Refresh' }).click();
    await delivery.getByRole('cell', { name: 'Waiting to retry' }).waitFor();
    await delivery.getByRole('cell', { name: 'HTTP 503' }).waitFor();
    expect(await delivery.getByRole('button', { name: /^Redeliver/ }).count()).toBe(0);

    // A day of tries later it is dead-lettered (as the sender does after 32): Redeliver, and it arrives.
    await app.env.deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'dead'`);
    await hook.getByRole('button', { name: 'Refresh' }).click();
    await delivery.getByRole('cell', { name: 'Gave up' }).waitFor();
    await screenshot(page, 'integrations-1366', { fullPage: true });
    await expectAccessible(page);
    answer = 204;
    await delivery.getByRole('button', { name: /^Redeliver/ }).click();
    await delivery.getByRole('cell', { name: 'Waiting to send' }).waitFor();
    await sendDueWebhooks(app.env.deps);
    await hook.getByRole('button', { name: 'Refresh' }).click();
    await delivery.getByRole('cell', { name: /Delivered/ }).waitFor();
    expect(received).toBe(2);
  });

  it('reads at 390 px: cards, 44 px controls, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('heading', { name: 'Webhooks' }).scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const small = await page.locator('.integrations button:visible, .integrations input:visible').evaluateAll((els) =>
      els.filter((e) => e.getBoundingClientRect().height < 44).map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(small).toEqual([]);
    await screenshot(page, 'integrations-390', { fullPage: true });
    await expectAccessible(page);

    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it('the webhook is deleted after a confirm', async () => {
    const hook = page.getByRole('listitem', { name: `Webhook ${receiverUrl}` });
    await hook.getByRole('button', { name: `Delete webhook ${receiverUrl}` }).click();
    await page.getByRole('dialog', { name: 'Delete this webhook?' }).getByRole('button', { name: 'Delete webhook' }).click();
    await hook.waitFor({ state: 'detached' });
    await page.getByText('No webhooks yet').waitFor();
  });
});
