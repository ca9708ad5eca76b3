import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import { clientFor } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';

let t: Tenants;
let server: RestartableServer;
let browser: Browser;
let operator: Page;
let icuNurse: Page;
let erNurse: Page;

// Chimes that first call for an event (re-alerts of a still-waiting alert, every 15 s for a critical, are not counted here).
const chimes = (page: Page) => page.evaluate(() => (window as unknown as { clarionChimes: { again: boolean }[] }).clarionChimes.filter((c) => !c.again).length);
const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
const tile = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(title) });

beforeAll(async () => {
  ({ t, server, browser } = await startWebApp());
  operator = (await openScreen(browser, server.url, { token: await t.token('general', 'operator') })).page;
  icuNurse = (await openScreen(browser, server.url, { token: await t.token('general', 'nurse.icu') })).page;
  erNurse = (await openScreen(browser, server.url, { token: await t.token('general', 'nurse.er') })).page;
  await Promise.all([live(operator), live(icuNurse), live(erNurse)]);
});

describe('ward board and operator console, live', () => {
  it('lands each role on its screen', async () => {
    await operator.getByRole('heading', { name: 'Operator console' }).waitFor();
    await icuNurse.getByRole('heading', { name: 'Intensive Care board' }).waitFor();
    await erNurse.getByRole('heading', { name: 'Emergency board' }).waitFor();
    // The seeded ICU cardiac arrest is on the ICU board, not on the ER one.
    await tile(icuNurse, 'Cardiac arrest').waitFor();
    expect(await tile(erNurse, 'Cardiac arrest').count()).toBe(0);
    await tile(erNurse, 'Patient fall').waitFor();
  });

  it('validates the raise-alert form with the shared zod schema, showing field messages', async () => {
    await operator.getByLabel('Title').fill('');
    await operator.getByRole('button', { name: 'Raise alert' }).click();
    await operator.getByText('Required').first().waitFor();
    expect(await operator.getByLabel('Department').getAttribute('aria-invalid')).toBe('true');
  });

  it('an alert raised on the console reaches the ICU board within a second, and not the ER board', async () => {
    await icuNurse.getByRole('button', { name: 'Enable sound' }).click();
    await icuNurse.getByRole('button', { name: 'Mute' }).waitFor();
    const before = await chimes(icuNurse);

    await operator.getByLabel('Department').selectOption({ label: 'Intensive Care (ICU)' });
    await operator.getByLabel('Room').fill('214');
    await operator.getByLabel('Type').selectOption('medical');
    await operator.getByLabel('Priority').selectOption('critical');
    await operator.getByLabel('Title').fill('Respiratory distress');
    await operator.getByLabel('Description').fill('Sats 84% on 4L');
    await operator.getByRole('button', { name: 'Raise alert' }).click();
    await operator.getByRole('status').filter({ hasText: 'Raised: Respiratory distress' }).waitFor({ timeout: 5_000 });
    const raisedAt = Date.now();
    await tile(icuNurse, 'Respiratory distress').waitFor({ timeout: 1_000 });
    expect(Date.now() - raisedAt).toBeLessThan(1_000);

    // The critical alert chimed on the ICU board (Web Audio; counted on the document).
    expect(await chimes(icuNurse)).toBe(before + 1);
    // The ER board never gets it (the server does not send it there).
    await erNurse.waitForTimeout(500);
    expect(await tile(erNurse, 'Respiratory distress').count()).toBe(0);
    // The tile says what, where, type and priority in words.
    const text = (await tile(icuNurse, 'Respiratory distress').textContent()) ?? '';
    expect(text).toMatch(/CRITICAL/);
    expect(text).toMatch(/Room 214 · Intensive Care/);
    expect(text).toMatch(/medical/i);
    // Sorted: critical before anything else.
    const first = icuNurse.getByRole('article').first();
    expect((await first.textContent()) ?? '').toMatch(/CRITICAL/);
  });

  it('the nurse acknowledges in one tap, with a few seconds to undo, and the console shows who', async () => {
    const card = tile(icuNurse, 'Respiratory distress');
    await card.getByRole('button', { name: 'Acknowledge' }).click();
    // No confirm dialog in a cardiac arrest: the acknowledgement is held for 5 s with Undo.
    expect(await icuNurse.getByRole('dialog').count()).toBe(0);
    await card.getByRole('button', { name: 'Undo' }).click();
    expect(await card.getByRole('button', { name: 'Acknowledge' }).count()).toBe(1);
    await card.getByRole('button', { name: 'Acknowledge' }).click();
    await card.getByText('Acknowledged by Nia ICU Nurse').waitFor({ timeout: 10_000 });

    const row = operator.getByRole('row').filter({ hasText: 'Respiratory distress' });
    await row.getByText(/^by Nia ICU Nurse at /).waitFor({ timeout: 5_000 });
    expect((await row.textContent()) ?? '').toMatch(/Acknowledged/);
  });

  it('the board screenshots for the README: a board with several priorities, and the console', async () => {
    const api = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'operator'));
    const icu = t.hospital.general.departments.ICU;
    await api.alerts.create.mutate({ title: 'Ventilator alarm', priority: 'high', alertType: 'equipment', departmentId: icu, roomNumber: '208' });
    await api.alerts.create.mutate({ title: 'Patient requests pain relief', priority: 'medium', alertType: 'medical', departmentId: icu, roomNumber: '211' });
    await api.alerts.create.mutate({ title: 'Linen restock', priority: 'low', alertType: 'other', departmentId: icu, roomNumber: 'Store 2' });
    await tile(icuNurse, 'Linen restock').waitFor({ timeout: 5_000 });
    await tile(icuNurse, 'Ventilator alarm').waitFor();
    const order = await icuNurse.getByRole('article').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')?.split(' ')[0]));
    // Waiting first (by priority), then the acknowledged Respiratory distress: someone is already on it.
    expect(order).toEqual(['critical', 'high', 'medium', 'low', 'critical']);
    await icuNurse.waitForTimeout(1_100); // let the ages tick once
    await screenshot(icuNurse, 'ward-board-priorities');
    await operator.getByRole('row').filter({ hasText: 'Linen restock' }).waitFor();
    await screenshot(operator, 'operator-console-basic');
  });

  it('the operator cancels their own alert; it leaves the board', async () => {
    const row = operator.getByRole('row').filter({ hasText: 'Linen restock' });
    await row.getByRole('button', { name: 'Cancel alert Linen restock' }).click();
    await operator.getByRole('button', { name: 'Yes, cancel alert' }).click();
    await row.getByText('Cancelled', { exact: true }).waitFor({ timeout: 5_000 });
    await tile(icuNurse, 'Linen restock').waitFor({ state: 'detached', timeout: 5_000 });
  });

  it('the nurse resolves an alert (with confirmation); it leaves the board', async () => {
    const card = tile(icuNurse, 'Respiratory distress');
    await card.getByRole('button', { name: 'Resolve' }).click();
    await icuNurse.getByRole('button', { name: 'Yes, resolve' }).click();
    await card.waitFor({ state: 'detached', timeout: 5_000 });
    await operator.getByRole('row').filter({ hasText: 'Respiratory distress' }).getByText('Resolved', { exact: true }).waitFor({ timeout: 5_000 });
  });

  it("the head doctor's escalations view shows a manual escalation live, with sound", async () => {
    const { page: head } = await openScreen(browser, server.url, { token: await t.token('general', 'head'), path: '/#/escalations' });
    await live(head);
    await head.getByRole('heading', { name: 'Escalations' }).waitFor();
    await tile(head, 'Patient fall').waitFor(); // seeded at level 1
    await head.getByRole('button', { name: 'Enable sound' }).click();
    const before = await chimes(head);

    const admin = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'admin'));
    const alert = await admin.alerts.create.mutate({
      title: 'Unwitnessed fall',
      priority: 'high',
      alertType: 'fall',
      departmentId: t.hospital.general.departments.CARD,
      roomNumber: '305',
    });
    await head.waitForTimeout(300);
    expect(await tile(head, 'Unwitnessed fall').count()).toBe(0); // level 0: not an escalation yet
    await admin.alerts.escalate.mutate({ alertId: alert.id });
    const card = tile(head, 'Unwitnessed fall');
    await card.waitFor({ timeout: 2_000 });
    expect((await card.textContent()) ?? '').toMatch(/Escalation level 1/);
    expect(await chimes(head)).toBe(before + 1);
    await screenshot(head, 'escalations');
  });
});
