import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWebTestEnv, launchBrowser, openScreen, screenshot } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, startTestWorker } from '../support/worker.js';

// Clinical safety in the browser: delivery receipts from boards on TWO server instances, screens
// online and the no-screen warning, decline, duplicate suppression, the acknowledgement timeout.
let env: TestEnv;
let t: Tenants;
let a: TestServer;
let b: TestServer;
let browser: Browser;
let operator: Page;
let nurse: Page;
let doctor: Page;
let head: Page;

const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
const tile = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(title) });
const row = (title: string) => operator.getByRole('row').filter({ hasText: title });
const screensOf = (name: string) => operator.getByRole('region', { name: 'Screens online' }).getByRole('listitem').filter({ hasText: name });
const receiptCalls = (page: Page) => page.evaluate(() => (window as unknown as { __clarionReceipts: { calls: number } }).__clarionReceipts.calls);

async function raise(fields: { department: string; room: string; title: string; priority?: string; type?: string }) {
  await operator.getByLabel('Department').selectOption({ label: fields.department });
  await operator.getByLabel('Room').fill(fields.room);
  await operator.getByLabel('Type').selectOption(fields.type ?? 'medical');
  await operator.getByLabel('Priority').selectOption(fields.priority ?? 'high');
  await operator.getByLabel('Title').fill(fields.title);
  await operator.getByRole('button', { name: 'Raise alert' }).click();
}

beforeAll(async () => {
  // The worker runs the acknowledgement timers; the no-screen system alert is left out of this file.
  env = await createWebTestEnv({ SWEEP_INTERVAL_MS: '500', PRESENCE_CHECK_MS: '3600000' });
  t = await seedTenants(env);
  await setPolicy(env, t.hospital.general.id, 'medium', [600, 600], { ackTimeoutSeconds: 3 });
  a = await startTestServer(env, { fanoutTickMs: 200 });
  b = await startTestServer(env, { separate: true, fanoutTickMs: 200 });
  await startTestWorker(env);
  browser = await launchBrowser();
  operator = (await openScreen(browser, a.url, { token: await t.token('general', 'operator') })).page;
  nurse = (await openScreen(browser, a.url, { token: await t.token('general', 'nurse.icu') })).page;
  doctor = (await openScreen(browser, b.url, { token: await t.token('general', 'doctor.icu') })).page;
  await Promise.all([live(operator), live(nurse), live(doctor)]);
});

describe('clinical safety on the board and the console', () => {
  it('the console shows screens online per department, counting boards on both instances', async () => {
    await screensOf('Intensive Care').getByText('2 screens').waitFor({ timeout: 10_000 });
    await screensOf('Cardiology').getByText('No screens').waitFor();
    await screensOf('Emergency').getByText('No screens').waitFor();
  });

  it('receipts from two boards on two instances: "delivered to 2 screens" and "seen by" both names, batched', async () => {
    const openedAt = Date.now();
    await raise({ department: 'Intensive Care (ICU)', room: '301', title: 'Chest pain' });
    await operator.getByRole('status').filter({ hasText: 'Raised: Chest pain' }).waitFor({ timeout: 5_000 });
    await tile(nurse, 'Chest pain').waitFor({ timeout: 2_000 });
    await tile(doctor, 'Chest pain').waitFor({ timeout: 2_000 });
    const delivery = row('Chest pain').getByText(/Delivered to 2 screens/);
    await delivery.waitFor({ timeout: 10_000 });
    await row('Chest pain').getByText('seen by Dr. Ivan ICU, Nia ICU Nurse').waitFor({ timeout: 10_000 });
    expect(await row('Chest pain').getByText('Not delivered to any screen').count()).toBe(0);
    // Batched: at most one receipts call per flush interval (2 s) since the boards opened.
    const elapsed = Date.now() - openedAt + 15_000; // the boards opened before this test began
    expect(await receiptCalls(nurse)).toBeLessThanOrEqual(Math.ceil(elapsed / 2_000));
    expect(await receiptCalls(operator)).toBe(0); // the console is not a screen
  });

  it('warns before raising to a department with no screen online; "Raise anyway" (by keyboard) raises it, and it is flagged undelivered', async () => {
    await raise({ department: 'Cardiology (CARD)', room: '12', title: 'Syncope' });
    const warning = operator.getByRole('alert').filter({ hasText: 'No screen is online in Cardiology' });
    await warning.waitFor({ timeout: 5_000 });
    expect(await row('Syncope').count()).toBe(0); // not raised yet
    // The warning has focus; one Tab reaches "Raise anyway", Enter presses it.
    expect(await operator.evaluate(() => document.activeElement?.textContent ?? '')).toMatch(/No screen is online in Cardiology/);
    await screenshot(operator, 'console-no-screen-warning');
    await operator.keyboard.press('Tab');
    expect(await operator.evaluate(() => document.activeElement?.textContent)).toBe('Raise anyway');
    await operator.keyboard.press('Enter');
    await operator.getByRole('status').filter({ hasText: 'Raised: Syncope' }).waitFor({ timeout: 5_000 });
    await row('Syncope').getByText('Not delivered to any screen').waitFor({ timeout: 12_000 });
    expect((await row('Syncope').textContent()) ?? '').toMatch(/Delivered to 0 screens/);
  });

  it("a nurse declines with a reason; the head doctor's escalations view shows it at once", async () => {
    head = (await openScreen(browser, b.url, { token: await t.token('general', 'head'), path: '/#/escalations' })).page;
    await live(head);
    await head.getByRole('heading', { name: 'Escalations' }).waitFor();
    expect(await tile(head, 'Chest pain').count()).toBe(0);

    const card = tile(nurse, 'Chest pain');
    await card.getByRole('button', { name: 'Decline' }).click();
    const dialog = nurse.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Other…' }).click(); // the presets are tested in ward-board.e2e.test.ts
    await dialog.getByLabel('Reason').waitFor();
    expect(await nurse.evaluate(() => document.activeElement?.id)).toBe(await dialog.getByLabel('Reason').getAttribute('id'));
    await dialog.getByRole('button', { name: 'Decline alert' }).click();
    await dialog.getByText('Say why (at least 3 characters)').waitFor();
    await dialog.getByLabel('Reason').fill('In theatre with another patient');
    await screenshot(nurse, 'board-decline-dialog');
    await dialog.getByRole('button', { name: 'Decline alert' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 5_000 });

    const escalated = tile(head, 'Chest pain');
    await escalated.waitFor({ timeout: 3_000 });
    const text = (await escalated.textContent()) ?? '';
    expect(text).toMatch(/Escalation level 1/);
    expect(text).toMatch(/Declined: “In theatre with another patient”/);
    await card.getByText('Declined: “In theatre with another patient”').waitFor();
    await screenshot(head, 'escalations-declined');
  });

  it('the alert timeline from the console: events with their detail, and the receipts per screen', async () => {
    await row('Chest pain').getByRole('button', { name: 'Details of Chest pain' }).click();
    const dialog = operator.getByRole('dialog', { name: 'Alert timeline: Chest pain' });
    await dialog.waitFor();
    const timeline = dialog.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('Declined: “In theatre with another patient”').waitFor({ timeout: 5_000 });
    const lines = await timeline.getByRole('listitem').allInnerTexts();
    expect(lines.map((l) => l.replace(/^\d\d:\d\d:\d\d\s+/, ''))).toEqual([
      'Raised — Olive Operator',
      'Declined: “In theatre with another patient” — Nia ICU Nurse',
      'Escalated to level 1 (after a decline) — Nia ICU Nurse',
    ]);
    for (const name of ['Nia ICU Nurse', 'Dr. Ivan ICU']) await dialog.getByRole('row').filter({ hasText: name }).first().waitFor();
    await screenshot(operator, 'console-alert-timeline');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('a duplicate raise is recorded on the existing alert: "Already active — added as repeat #1"', async () => {
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '120'::jsonb) WHERE id = ${t.hospital.general.id}`);
    await raise({ department: 'Intensive Care (ICU)', room: '301', title: 'chest pain ' });
    await operator.getByRole('status').filter({ hasText: 'Already active — added as repeat #1 to the open alert: Chest pain, room 301' }).waitFor({ timeout: 5_000 });
    await tile(nurse, 'Chest pain').getByText('Repeated ×1').waitFor({ timeout: 3_000 });
    expect(await tile(nurse, 'Chest pain').count()).toBe(1);
    expect(await row('Chest pain').count()).toBe(1);
    await screenshot(operator, 'console-duplicate');
  });

  it('a more urgent repeat raises the open alert and says so; a repeat of an acknowledged alert chimes on its board', async () => {
    await nurse.getByRole('button', { name: 'Enable sound' }).click();
    await nurse.getByRole('button', { name: 'Mute' }).waitFor();
    // First calls only: re-alerts of still-waiting alerts (every 15 s for a critical) are not counted here.
    const chimes = () => nurse.evaluate(() => (window as unknown as { clarionChimes: { again: boolean }[] }).clarionChimes.filter((c) => !c.again).length);
    const before = await chimes();
    await raise({ department: 'Intensive Care (ICU)', room: '301', title: 'Chest pain', priority: 'critical' });
    const notice = operator.getByRole('status').filter({ hasText: 'Already active — added as repeat #2 to the open alert: Chest pain, room 301 (Intensive Care) — raised to CRITICAL' });
    await notice.waitFor({ timeout: 5_000 });
    await notice.scrollIntoViewIfNeeded();
    await screenshot(operator, 'console-duplicate-raised');
    await tile(nurse, 'Chest pain').getByText('Repeated ×2').waitFor({ timeout: 3_000 });
    expect(await tile(nurse, 'Chest pain').getAttribute('aria-label')).toMatch(/^critical alert: Chest pain/);
    await expect.poll(chimes, { timeout: 3_000 }).toBe(before + 1);
    // A different emergency in the same room is its own alert, never folded.
    await raise({ department: 'Intensive Care (ICU)', room: '301', title: 'Patient needs water', priority: 'low' });
    await operator.getByRole('status').filter({ hasText: 'Raised: Patient needs water, room 301' }).waitFor({ timeout: 5_000 });
    await tile(nurse, 'Patient needs water').waitFor({ timeout: 3_000 });
    expect(await tile(nurse, 'Chest pain').count()).toBe(1);

    await tile(nurse, 'Patient needs water').getByRole('button', { name: 'Acknowledge' }).click(); // one tap, sent after its 5 s undo window
    await tile(nurse, 'Patient needs water').getByText('Acknowledged by Nia ICU Nurse').waitFor({ timeout: 10_000 });
    const beforeRepeat = await chimes();
    await raise({ department: 'Intensive Care (ICU)', room: '301', title: 'Patient needs water', priority: 'low' });
    const acknowledged = operator.getByRole('status').filter({ hasText: 'It is acknowledged by Nia ICU Nurse; its screens were alerted again.' });
    await acknowledged.waitFor({ timeout: 5_000 });
    await acknowledged.scrollIntoViewIfNeeded();
    await screenshot(operator, 'console-duplicate-acknowledged');
    await tile(nurse, 'Patient needs water').getByText('Repeated ×1').waitFor({ timeout: 3_000 });
    await expect.poll(chimes, { timeout: 3_000 }).toBe(beforeRepeat + 1);
    expect(await tile(nurse, 'Patient needs water').getByRole('button', { name: 'Acknowledge' }).count()).toBe(0); // not reopened
  });

  it('an acknowledgement not followed by a resolve in time puts the alert back as needing attention', async () => {
    const api = clientFor(a, await t.token('general', 'operator'));
    await api.alerts.create.mutate({ title: 'IV line occluded', priority: 'medium', alertType: 'equipment', departmentId: t.hospital.general.departments.ICU, roomNumber: '305' });
    const card = tile(nurse, 'IV line occluded');
    await card.getByRole('button', { name: 'Acknowledge' }).click({ timeout: 5_000 }); // one tap, sent after its 5 s undo window
    await card.getByText('Acknowledged by Nia ICU Nurse').waitFor({ timeout: 10_000 });
    await card.getByText('Needs attention — acknowledgement timed out').waitFor({ timeout: 15_000 });
    await card.getByRole('button', { name: 'Acknowledge' }).waitFor();
    await tile(doctor, 'IV line occluded').getByText('Needs attention — acknowledgement timed out').waitFor({ timeout: 5_000 });

    // A reloaded board learns it from the alert's history.
    await doctor.reload();
    await live(doctor);
    await tile(doctor, 'IV line occluded').getByText('Needs attention — acknowledgement timed out').waitFor({ timeout: 10_000 });
    await tile(doctor, 'Chest pain').getByText('Declined: “In theatre with another patient”').waitFor();
  });

  it('screenshots of the new states, for the README', async () => {
    await nurse.waitForTimeout(1_100);
    await screenshot(nurse, 'ward-board', { docs: true });
    await row('IV line occluded').getByText(/Delivered to \d screens/).waitFor({ timeout: 10_000 });
    await operator.evaluate(() => window.scrollTo(0, 0));
    await screenshot(operator, 'operator-console', { docs: true });
  });
});
