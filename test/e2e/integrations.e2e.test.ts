import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { startHl7Listener } from '../../server/integrations/hl7/listener.js';
import { authenticateKey } from '../../server/integrations/keys.js';
import { sendDueWebhooks } from '../../server/integrations/webhook-sender.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';
import { hl7Peer, oruR40 } from '../support/hl7-peer.js';

// Integrations issue, web part: Admin › Integrations. A key is shown once, works, and is revoked; a
// webhook to a receiver this file runs gets a real delivery, a 503 shows as the error, Redeliver sends again;
// an HL7 source added through the form takes a real ORU^R40 (node-hl7-client) onto the ward board.
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

  it('adds an HL7 source through the form (its errors, the server\'s refusal), a real ORU^R40 reaches the ward board, and it is deactivated', async () => {
    // The server's MLLP listener (server/main.ts starts the same one when HL7_MLLP_PORT is set), on this file's deps.
    const listener = await startHl7Listener(app.env.deps, { port: 0, host: '127.0.0.1' });
    const peer = hl7Peer(listener.port);
    try {
      await page.getByText('No HL7 sources yet').waitFor();
      const form = page.getByRole('form', { name: 'New HL7 source' });
      await form.getByRole('button', { name: 'Add source' }).click();
      await form.getByText('Give the source a name').waitFor();
      const row1 = form.getByRole('group', { name: 'Point of care 1' });
      await row1.getByText('Choose a department').waitFor();
      await form.getByLabel('Name').fill('ICU monitor gateway');
      await form.getByLabel('Sending facility (MSH-4)').fill('ICU|GW');
      await form.getByRole('button', { name: 'Add source' }).click();
      await form.getByText('No HL7 delimiters (| ^ ~ \\ &)').first().waitFor();
      await form.getByLabel('Sending facility (MSH-4)').fill('E2E_ICU_GW');
      await row1.getByLabel('Point of care', { exact: true }).fill('ICU');
      await row1.getByLabel('Department').selectOption({ label: 'Intensive Care (ICU)' });
      await form.getByRole('button', { name: 'Add point of care' }).click();
      const row2 = form.getByRole('group', { name: 'Point of care 2' });
      await row2.getByLabel('Point of care', { exact: true }).fill('ICU');
      await form.getByRole('button', { name: 'Add source' }).click();
      await row2.getByText('Listed twice: one department per point of care').waitFor();
      await row2.getByLabel('Point of care', { exact: true }).fill('ER-BAY');
      await row2.getByLabel('Department').selectOption({ label: 'Emergency (ER)' });
      await form.getByLabel('Heartbeat in minutes (optional)').fill('10');
      await form.getByRole('button', { name: 'Add source' }).click();
      await page.getByRole('status').filter({ hasText: 'Added ICU monitor gateway' }).waitFor();
      const row = page.getByRole('row', { name: /ICU monitor gateway/ });
      await row.getByRole('cell', { name: 'E2E_ICU_GW' }).waitFor();
      await row.getByText('→ Intensive Care (ICU)').waitFor();
      await row.getByText('→ Emergency (ER)').waitFor();
      await row.getByRole('cell', { name: 'After 10 min of silence' }).waitFor();
      await row.getByRole('cell', { name: 'Never' }).waitFor();
      await row.getByRole('cell', { name: 'Active' }).waitFor();

      // The server's own refusal (the facility is taken), under the field it is about.
      await form.getByLabel('Name').fill('Second gateway');
      await form.getByLabel('Sending facility (MSH-4)').fill('E2E_ICU_GW');
      await form.getByRole('group', { name: 'Point of care 1' }).getByLabel('Point of care', { exact: true }).fill('CARD');
      await form.getByRole('group', { name: 'Point of care 1' }).getByLabel('Department').selectOption({ index: 1 });
      await form.getByRole('button', { name: 'Add source' }).click();
      await form.getByText('Sending facility "E2E_ICU_GW" is in use already').waitFor();
      expect(await form.getByLabel('Sending facility (MSH-4)').getAttribute('aria-invalid')).toBe('true');
      await form.getByLabel('Name').fill('');
      await form.getByLabel('Sending facility (MSH-4)').fill('');

      // A monitor gateway sends an alarm: AA, an alert on the ICU ward board, the source's last message.
      const ward = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'nurse.icu'), path: '/#/board' });
      await ward.page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
      const ack = await peer.send(oruR40({ facility: 'E2E_ICU_GW', pointOfCare: 'ICU', alarmId: 'E2E-ALM-1', text: 'SPO2 LOW 82', flags: 'PH', room: '305', bed: '1' }));
      expect(ack.code).toBe('AA');
      await ward.page.getByRole('article', { name: /SPO2 LOW 82/ }).waitFor({ timeout: 10_000 });
      const [alert] = (await app.env.deps.db.execute<{ source: string; external_id: string; room_number: string }>(sql`SELECT source, external_id, room_number FROM alerts WHERE external_id = 'E2E-ALM-1'`)).rows;
      expect(alert).toMatchObject({ source: 'hl7:ICU monitor gateway', room_number: '305-1' });
      await ward.context.close();
      await page.reload();
      await row.getByRole('cell', { name: 'Active' }).waitFor();
      expect(await row.getByRole('cell', { name: 'Never' }).count()).toBe(0);

      await page.setViewportSize({ width: 1366, height: 900 });
      await page.getByRole('heading', { name: 'HL7 sources' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await screenshot(page, 'integrations-hl7', { docs: true });
      await expectAccessible(page);

      await row.getByRole('button', { name: 'Deactivate ICU monitor gateway' }).click();
      await page.getByRole('dialog', { name: 'Deactivate ICU monitor gateway?' }).getByRole('button', { name: 'Deactivate source' }).click();
      await row.getByRole('cell', { name: /^Deactivated/ }).waitFor();
      expect(await row.getByRole('button', { name: /^Deactivate/ }).count()).toBe(0);
      const refused = await peer.send(oruR40({ facility: 'E2E_ICU_GW', pointOfCare: 'ICU', alarmId: 'E2E-ALM-2', text: 'HR HIGH 150' }));
      expect(refused).toMatchObject({ code: 'AE' });
      expect(refused.text).toMatch(/inactive/);
    } finally {
      await peer.close();
      await listener.close();
    }
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
    await page.getByRole('heading', { name: 'HL7 sources' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'integrations-hl7-390');
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
