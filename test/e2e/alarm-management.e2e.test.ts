import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import { unshelveWhenDue } from '../../server/alerts/shelving.js';
import type { TestEnv } from '../support/env.js';
import { clientFor } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';

// Issue 19 items 1–3 in Chromium: shelving with its countdown row, a code called on the console that
// sounds on a muted board with its banner and responders, and a suppression window that keeps a
// matching raise off the board (listed apart) until it is ended.
let t: Tenants;
let env: TestEnv;
let server: RestartableServer;
let browser: Browser;
let board: Page;
let erBoard: Page;
let consolePage: Page;
type Api = ReturnType<typeof clientFor>;
let operator: Api;

type Chime = { chime: string; at: number; again: boolean };
const chimeLog = (page: Page) => page.evaluate(() => (window as unknown as { clarionChimes: Chime[] }).clarionChimes.slice());
const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
const tile = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(`: ${title}(,|$)`) });
const shelvedRow = (page: Page) => page.getByRole('region', { name: /^Shelved/ });
const quietStrip = (page: Page) => page.getByRole('region', { name: /^Kept quiet/ });
const localInput = (ms: number) => new Date(ms).toISOString().slice(0, 16); // the browser runs in UTC

async function scan(page: Page, what: string) {
  const violations = await axeViolations(page);
  expect(violations, `${what}:\n${describeViolations(violations)}`).toEqual([]);
}

beforeAll(async () => {
  ({ t, env, server, browser } = await startWebApp());
  const at = { url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` };
  operator = clientFor(at, await t.token('general', 'operator'));
  board = (await openScreen(browser, server.url, { token: await t.token('general', 'nurse.icu'), width: 1920, height: 1080 })).page;
  erBoard = (await openScreen(browser, server.url, { token: await t.token('general', 'nurse.er'), width: 1366, height: 900 })).page;
  consolePage = (await openScreen(browser, server.url, { token: await t.token('general', 'operator'), path: '/#/console', width: 1366, height: 900 })).page;
  await Promise.all([live(board), live(erBoard), live(consolePage)]);
  await board.getByRole('button', { name: 'Enable sound' }).click();
  await board.getByText('Sound on').waitFor();
});

describe('shelving', () => {
  it('a nurse shelves an alert with a reason: its own row with a live countdown, no sound; Unshelve brings it back calling', async () => {
    const a = await operator.alerts.create.mutate({ title: 'Leads off bed 7', priority: 'high', alertType: 'equipment', departmentId: t.hospital.general.departments.ICU, roomNumber: '307' });
    await tile(board, 'Leads off bed 7').waitFor({ timeout: 3_000 });
    await tile(board, 'Leads off bed 7').getByRole('button', { name: /^Details of/ }).click();
    const detail = board.getByRole('dialog', { name: 'Leads off bed 7' });
    await detail.getByRole('button', { name: 'Shelve' }).click();

    const dialog = board.getByRole('dialog', { name: /^Shelve “Leads off bed 7” in room 307\?/ });
    // A high alert: presets only within the default cap (60 min).
    await expect.poll(() => dialog.locator('.shelve-minutes button').allTextContents()).toEqual(['5 min', '10 min', '15 min', '30 min', '1 h']);
    await dialog.getByRole('button', { name: 'Shelve', exact: true }).click();
    await dialog.getByText('Choose how long').waitFor();
    await dialog.getByRole('button', { name: '30 min' }).click();
    await dialog.getByRole('button', { name: 'Shelve', exact: true }).click();
    await dialog.getByText('Say why').waitFor();
    expect(await dialog.getByLabel('Reason').getAttribute('aria-invalid')).toBe('true');
    await dialog.getByLabel('Reason').fill('Patient repositioning, leads off');
    const before = (await chimeLog(board)).length;
    await dialog.getByRole('button', { name: 'Shelve', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    const row = shelvedRow(board);
    await row.getByText(/^Shelved — back in (29:[0-5]\d|30:00)$/).waitFor({ timeout: 3_000 });
    await row.getByText('“Patient repositioning, leads off”').waitFor();
    await row.getByText(/^by Nia ICU Nurse, until/).waitFor();
    expect(await tile(board, 'Leads off bed 7').count()).toBe(0);
    const first = await row.locator('.shelved-countdown').textContent();
    await board.waitForTimeout(2_100);
    expect(await row.locator('.shelved-countdown').textContent()).not.toBe(first); // it counts down live
    const server = await operator.alerts.getById.query({ alertId: a.id });
    expect(server.alert.status).toBe('shelved');
    expect(server.alert.shelveReason).toBe('Patient repositioning, leads off');
    expect((await chimeLog(board)).length).toBe(before); // shelved: no sound
    // Raised again while shelved: folded into it (counted on its row), still no sound.
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '300'::jsonb)`);
    const repeat = await operator.alerts.create.mutate({ title: 'Leads off bed 7', priority: 'high', alertType: 'equipment', departmentId: t.hospital.general.departments.ICU, roomNumber: '307' });
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '0'::jsonb)`);
    expect(repeat.deduplicated).toBe(true);
    expect(repeat.status).toBe('shelved');
    await row.getByText('Repeated ×1').waitFor({ timeout: 3_000 });
    await board.waitForTimeout(300);
    expect((await chimeLog(board)).length).toBe(before);
    await screenshot(board, 'board-shelved', { docs: true });
    await scan(board, 'board with a shelved row');

    await row.getByRole('button', { name: 'Unshelve Leads off bed 7' }).click();
    await tile(board, 'Leads off bed 7').waitFor({ timeout: 3_000 });
    await shelvedRow(board).waitFor({ state: 'detached' });
    await expect.poll(async () => (await chimeLog(board)).slice(before).map((c) => c.chime)).toContain('high');
    const events = (await operator.alerts.getById.query({ alertId: a.id })).events.map((e) => e.type);
    expect(events.slice(-3)).toEqual(['shelved', 'repeated', 'unshelved']);
    await operator.alerts.cancel.mutate({ alertId: a.id }); // room on the wall for what follows
  });

  it("when the shelf's time runs out the alert is back on the board, calling, with the reason in its timeline", async () => {
    const nurse = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'nurse.icu'));
    const a = await operator.alerts.create.mutate({ title: 'Bed exit 308', priority: 'medium', alertType: 'fall', departmentId: t.hospital.general.departments.ICU, roomNumber: '308' });
    const shelvedAlert = await nurse.alerts.shelve.mutate({ alertId: a.id, minutes: 10, reason: 'Patient asleep, sensor faulty' });
    await shelvedRow(board).getByText('Bed exit 308').waitFor({ timeout: 3_000 });
    const before = (await chimeLog(board)).length;
    // Its time is up (as 10 minutes later): the worker's timer job runs unshelveWhenDue, which is called here as the job would.
    await env.deps.db.execute(sql`UPDATE alerts SET shelved_until = now() - interval '1 second' WHERE id = ${a.id}`);
    expect(await unshelveWhenDue(env.deps, a.hospitalId, a.id, shelvedAlert.version)).not.toBeNull();
    await tile(board, 'Bed exit 308').waitFor({ timeout: 3_000 });
    await expect.poll(async () => (await chimeLog(board)).slice(before).map((c) => c.chime)).toContain('reminder');
    await board.getByRole('log', { name: 'New alerts' }).getByText(/Back from the shelf:.*Bed exit 308/).waitFor();
    await tile(board, 'Bed exit 308').getByRole('button', { name: /^Details of/ }).click();
    const detail = board.getByRole('dialog', { name: 'Bed exit 308' });
    await detail.getByText('Back from the shelf (its time ran out)').waitFor();
    await detail.getByText('Shelved for 10 min: “Patient asleep, sensor faulty”').waitFor();
    await detail.getByRole('button', { name: 'Close' }).click();
    await operator.alerts.cancel.mutate({ alertId: a.id });
  });

  it('the board refuses to offer Shelve on nothing it cannot shelve, and the server refuses a length over the cap', async () => {
    const a = await operator.alerts.create.mutate({ title: 'Pump occlusion', priority: 'critical', alertType: 'equipment', departmentId: t.hospital.general.departments.ICU, roomNumber: '309' });
    const nurse = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'nurse.icu'));
    await expect(nurse.alerts.shelve.mutate({ alertId: a.id, minutes: 16, reason: 'x' })).rejects.toThrow(/at most 15 minutes/);
    await tile(board, 'Pump occlusion').getByRole('button', { name: /^Details of/ }).click();
    await board.getByRole('dialog', { name: 'Pump occlusion' }).getByRole('button', { name: 'Shelve' }).click();
    const dialog = board.getByRole('dialog', { name: /^Shelve “Pump occlusion”/ });
    await expect.poll(() => dialog.locator('.shelve-minutes button').allTextContents()).toEqual(['5 min', '10 min', '15 min']);
    await dialog.getByRole('button', { name: 'Back' }).click();
    await operator.alerts.cancel.mutate({ alertId: a.id });
  });
});

describe('hospital codes', () => {
  it('a code called on the console sounds on a muted board, with its banner on every board of the hospital', async () => {
    await board.getByRole('button', { name: 'Mute 5 min' }).click();
    await board.getByText(/^Muted [45]:\d\d$/).waitFor();
    const before = (await chimeLog(board)).length;

    await consolePage.getByLabel('Which code').selectOption({ label: 'Code Blue' });
    await consolePage.getByLabel('Ward').selectOption({ label: 'Intensive Care (ICU)' });
    await consolePage.getByLabel('Bed or place (optional)').fill('312');
    await consolePage.getByRole('button', { name: 'Call code…' }).click();
    const confirm = consolePage.getByRole('dialog', { name: 'Call Code Blue in Intensive Care, room 312?' });
    await confirm.getByRole('button', { name: 'Yes, call Code Blue' }).click();
    await consolePage.getByRole('status').filter({ hasText: 'Called: Code Blue — Intensive Care room 312' }).waitFor({ timeout: 5_000 });

    const banner = board.getByRole('alert', { name: 'Code Blue: Intensive Care room 312' });
    await banner.waitFor({ timeout: 3_000 });
    expect(await banner.textContent()).toMatch(/^CODE BLUE — Intensive Care room 312 — Nobody responding yet/);
    // Muted, and the code still sounded: its own chime, which a snooze does not silence.
    await expect.poll(async () => (await chimeLog(board)).slice(before).map((c) => c.chime)).toContain('code');
    expect((await chimeLog(board)).slice(before).filter((c) => c.chime !== 'code')).toEqual([]);
    await board.getByText(/^Muted [45]:\d\d$/).waitFor();
    // Hospital-wide: the ER board shows it too.
    await erBoard.getByRole('alert', { name: 'Code Blue: Intensive Care room 312' }).waitFor({ timeout: 3_000 });
    await consolePage.getByRole('alert', { name: 'Code Blue: Intensive Care room 312' }).waitFor();
    // And the head doctor's Escalations view, loaded after the call (from the snapshot).
    const { context, page } = await openScreen(browser, server.url, { token: await t.token('general', 'head'), path: '/#/escalations' });
    await page.getByRole('alert', { name: 'Code Blue: Intensive Care room 312' }).getByRole('button', { name: 'Responding' }).waitFor({ timeout: 5_000 });
    await context.close();
  });

  it('a nurse presses Responding: the banner, the tile and the console show her and since when', async () => {
    const banner = board.getByRole('alert', { name: 'Code Blue: Intensive Care room 312' });
    await banner.getByRole('button', { name: 'Responding' }).click();
    await banner.getByText('You are responding').waitFor({ timeout: 3_000 });
    expect(await banner.textContent()).toMatch(/1 responding: Nia ICU Nurse \(since \d\d:\d\d:\d\d\)/);
    await tile(board, 'Code Blue').getByText(/^1 responding: Nia ICU Nurse \(since/).waitFor();
    await consolePage.getByRole('alert', { name: 'Code Blue: Intensive Care room 312' }).getByText(/1 responding: Nia ICU Nurse/).waitFor({ timeout: 3_000 });
    await consolePage.getByRole('table').getByText(/^1 responding: Nia ICU Nurse \(since/).waitFor();
    expect(await consolePage.getByRole('alert', { name: /Code Blue/ }).getByRole('button', { name: 'Responding' }).count()).toBe(0); // an operator does not respond
    // The ER nurse responds too: both are listed, first first.
    await erBoard.getByRole('alert', { name: /Code Blue/ }).getByRole('button', { name: 'Responding' }).click();
    await banner.getByText(/2 responding: Nia ICU Nurse \(since [\d:]+\), Noah ER Nurse \(since [\d:]+\)/).waitFor({ timeout: 3_000 });
    await board.getByRole('button', { name: 'Unmute' }).click();
    await screenshot(board, 'code-banner', { docs: true });
    await scan(board, 'board with a code banner');
    await scan(consolePage, 'console with a code banner');
    await consolePage.evaluate(() => window.scrollTo(0, 0));
    await screenshot(consolePage, 'console-code');
  });
});

describe('calling a code from anywhere', () => {
  it('a doctor calls a code from Call a code (#/code) with its confirm step, and every board gets its banner', async () => {
    const { context, page } = await openScreen(browser, server.url, { token: await t.token('general', 'doctor.icu'), path: '/#/code' });
    await page.getByRole('heading', { name: 'Call a hospital code', level: 1 }).waitFor();
    // His own ward is chosen to begin with; this one is called for the ER.
    await expect.poll(async () => (await page.getByLabel('Ward').locator('option:checked').textContent()) ?? '').toBe('Intensive Care (ICU)');
    await page.getByLabel('Which code').selectOption({ label: 'Fire' });
    await page.getByLabel('Ward').selectOption({ label: 'Emergency (ER)' });
    await page.getByLabel('Bed or place (optional)').fill('Triage 2');
    await page.getByRole('button', { name: 'Call code…' }).click();
    await page.getByRole('dialog', { name: 'Call Fire in Emergency, room Triage 2?' }).getByRole('button', { name: 'Yes, call Fire' }).click();
    await page.getByRole('status').filter({ hasText: 'Called: Fire — Emergency room Triage 2' }).waitFor({ timeout: 5_000 });
    await scan(page, 'Call a code');
    await screenshot(page, 'call-code');
    await context.close();
    await board.getByRole('alert', { name: 'Fire: Emergency room Triage 2' }).waitFor({ timeout: 3_000 });
    await erBoard.getByRole('alert', { name: 'Fire: Emergency room Triage 2' }).waitFor({ timeout: 3_000 });
    // Put out, so the later tests hear only what they raise.
    const head = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'head'));
    const fire = (await head.alerts.getActive.query()).alerts.find((a) => a.code === 'fire');
    await head.alerts.resolve.mutate({ alertId: fire!.id });
    await board.getByRole('alert', { name: 'Fire: Emergency room Triage 2' }).waitFor({ state: 'detached', timeout: 3_000 });
  });
});

describe('suppression windows', () => {
  let head: Page;

  it('a head doctor sets a window; the form shows its checks', async () => {
    head = (await openScreen(browser, server.url, { token: await t.token('general', 'head'), path: '/#/suppressions', width: 1366, height: 900 })).page;
    await head.getByRole('heading', { name: 'Suppression windows', level: 1 }).waitFor();
    await head.getByRole('button', { name: 'Set window' }).click();
    await head.getByText('Say why (the board shows it)').waitFor();
    expect(await head.getByLabel('Department').getAttribute('aria-invalid')).toBe('true');
    await head.getByLabel('Department').selectOption({ label: 'Intensive Care (ICU)' });
    await head.getByLabel('Rooms (optional)').fill('305, 306');
    await head.getByLabel('Ends').fill(localInput(Date.now() - 60_000));
    await head.getByLabel('Reason').fill('Fire drill');
    await head.getByRole('button', { name: 'Set window' }).click();
    await head.getByText('Must be after the start').waitFor();
    const ends = Date.now() + 2 * 3_600_000;
    await head.getByLabel('Ends').fill(localInput(ends));
    await head.getByRole('button', { name: 'Set window' }).click();
    await head.getByRole('status').filter({ hasText: 'Window set: Fire drill (Intensive Care), running' }).waitFor({ timeout: 5_000 });
    const row = head.getByRole('table', { name: 'Suppression windows' }).getByRole('row').filter({ hasText: 'Fire drill' });
    await row.getByText('Running').waitFor();
    await row.getByText('Intensive Care · rooms 305, 306 · every type').waitFor();
  });

  it('a matching raise is kept quiet: listed apart on the board, not among the tiles, and pages nobody', async () => {
    const kept = await operator.alerts.create.mutate({ title: 'Smoke alarm 305', priority: 'high', alertType: 'fire', departmentId: t.hospital.general.departments.ICU, roomNumber: '305' });
    expect(kept.status).toBe('suppressed');
    const other = await operator.alerts.create.mutate({ title: 'Call bell 311', priority: 'medium', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: '311' });
    expect(other.status).toBe('active');
    await tile(board, 'Call bell 311').waitFor({ timeout: 3_000 });
    await operator.alerts.cancel.mutate({ alertId: other.id });
    const strip = quietStrip(board);
    await strip.getByText(/^Kept quiet: 1 — Fire drill until (\d{1,2} \w{3}, )?\d\d:\d\d(:\d\d)?$/).waitFor({ timeout: 5_000 });
    await strip.getByText('Show what was kept quiet (1)').click();
    await strip.getByRole('list', { name: 'Alerts kept quiet' }).getByText('Smoke alarm 305').waitFor();
    expect(await tile(board, 'Smoke alarm 305').count()).toBe(0);
    expect((await operator.alerts.getActive.query()).alerts.some((a) => a.id === kept.id)).toBe(false);
    expect((await operator.alerts.getById.query({ alertId: kept.id })).pages).toEqual([]);
    // The console lists it with its own status, in words.
    await consolePage.getByRole('row').filter({ hasText: 'Smoke alarm 305' }).getByText('Kept quiet', { exact: true }).waitFor({ timeout: 3_000 });
    await scan(board, 'board with the kept-quiet strip');
    await screenshot(board, 'board-kept-quiet');

    await head.reload();
    await head.getByRole('table', { name: 'Suppression windows' }).getByRole('row').filter({ hasText: 'Fire drill' }).getByRole('cell', { name: '1', exact: true }).waitFor();
    await screenshot(head, 'suppressions', { docs: true });
    await scan(head, 'suppressions screen');
  });

  it('End now (after a confirm): the window is over, what it kept stays kept, new raises call again', async () => {
    const row = head.getByRole('table', { name: 'Suppression windows' }).getByRole('row').filter({ hasText: 'Fire drill' });
    await row.getByRole('button', { name: 'End now: Fire drill' }).click();
    const confirm = head.getByRole('dialog', { name: 'End “Fire drill” now?' });
    await confirm.getByText(/The 1 it kept quiet stay as they are/).waitFor();
    await confirm.getByRole('button', { name: 'Yes, end it now' }).click();
    await row.getByText('Over').waitFor({ timeout: 3_000 });
    await row.getByText(/ended .* by Dr\. Harper Head/).waitFor();
    expect(await row.getByRole('button', { name: /End now/ }).count()).toBe(0);
    const again = await operator.alerts.create.mutate({ title: 'Smoke alarm 305 again', priority: 'high', alertType: 'fire', departmentId: t.hospital.general.departments.ICU, roomNumber: '305' });
    expect(again.status).toBe('active');
    await tile(board, 'Smoke alarm 305 again').waitFor({ timeout: 3_000 });
    await board.reload();
    await live(board);
    // The window is gone from the strip; the raise it kept quiet is still listed apart.
    await quietStrip(board).getByText('Show what was kept quiet (1)').waitFor({ timeout: 5_000 });
    expect(await quietStrip(board).getByText(/Fire drill until/).count()).toBe(0);
  });

  it('the suppressions screen and the board strips reflow at 390 px', async () => {
    for (const [account, path] of [
      ['head', '/#/suppressions'],
      ['nurse.icu', '/#/board'],
    ] as const) {
      const { context, page } = await openScreen(browser, server.url, { token: await t.token('general', account), path, width: 390, height: 844 });
      await live(page).catch(() => undefined);
      await (account === 'head' ? page.getByRole('table', { name: 'Suppression windows' }) : page.getByRole('alert', { name: /Code Blue/ })).waitFor({ timeout: 5_000 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, `alarm-${account}-390`, { fullPage: true });
      await scan(page, `${path} at 390 px`);
      await context.close();
    }
  });
});

describe('alarm settings', () => {
  it('an admin sets the longest shelving per priority and a code team; the shelve dialog follows the new cap', async () => {
    const { context, page } = await openScreen(browser, server.url, { token: await t.token('general', 'admin'), path: '/#/admin/settings', width: 1366, height: 900 });
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    const cap = page.getByLabel('Critical: longest shelving (minutes)');
    expect(await cap.inputValue()).toBe('15');
    await cap.fill('2000');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('At most 24 hours').waitFor();
    await cap.fill('20');
    const blue = page.getByRole('group', { name: 'Code Blue', exact: true });
    await blue.getByLabel('Default: page the head doctors').uncheck();
    await blue.getByLabel('Code Blue target 1', { exact: true }).selectOption({ label: 'Everyone with a role' });
    await blue.getByLabel('Code Blue target 1: role').selectOption({ label: 'Nurse' });
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor({ timeout: 5_000 });
    const admin = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'admin'));
    const s = (await admin.hospitals.getCurrent.query()).settings;
    expect(s.maxShelveMinutes).toEqual({ critical: 20, high: 60, medium: 240, low: 480 });
    expect(s.codeTeams).toEqual({ blue: [{ kind: 'role', role: 'nurse' }] });
    await scan(page, 'settings with alarm sections');
    await page.getByRole('group', { name: 'Code teams' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-alarm');
    await context.close();

    await board.reload();
    await live(board);
    const a = await operator.alerts.create.mutate({ title: 'Arrhythmia 310', priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: '310' });
    await tile(board, 'Arrhythmia 310').getByRole('button', { name: /^Details of/ }).click();
    await board.getByRole('dialog', { name: 'Arrhythmia 310' }).getByRole('button', { name: 'Shelve' }).click();
    const dialog = board.getByRole('dialog', { name: /^Shelve “Arrhythmia 310”/ });
    await expect.poll(() => dialog.locator('.shelve-minutes button').allTextContents()).toEqual(['5 min', '10 min', '15 min', '20 min']);
    await dialog.getByRole('button', { name: 'Back' }).click();
    await operator.alerts.cancel.mutate({ alertId: a.id });
  });
});
