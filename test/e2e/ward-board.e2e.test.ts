import { mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWebTestEnv, launchBrowser, openScreen, RestartableServer, screenshot } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import { clientFor } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 15, "The ward board", points 1–5: a full wall at 1920×1080, sound that keeps calling (counted
// in the page), the detail view, one-tap acknowledge with undo, decline presets, the head doctor's
// department filter, shortcuts, and the board on a 390×844 phone.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;
let wall: Page;
type Api = ReturnType<typeof clientFor>;
let operator: Api;
let admin: Api;
let nurseApi: Api;
const ids = new Map<string, string>();

const SHOTS = '/tmp/shots';
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });
const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
const tile = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(`: ${title}(,|$)`) });
const more = (page: Page) => page.getByRole('complementary', { name: /more alerts not shown/ });
const criticalChimes = (page: Page) => page.evaluate(() => ((window as unknown as { clarionChimes: { chime: string; at: number }[] }).clarionChimes ?? []).filter((c) => c.chime === 'critical').map((c) => c.at));

/** Pages back to the first page of the wall (the "+N more" tile's button cycles through the pages). */
async function firstPage(page: Page) {
  for (let i = 0; i < 5 && !(await more(page).getByText(/^Page 1 of/).count()); i++) await more(page).getByRole('button', { name: /First page|Next page/ }).click();
}

/** Pages through the wall until the tile is on screen (an acknowledged tile moves behind the waiting ones). */
async function findTile(page: Page, title: string) {
  for (let i = 0; i < 5 && !(await tile(page, title).count()); i++) {
    await more(page).getByRole('button', { name: /First page|Next page/ }).click();
    await page.waitForTimeout(100);
  }
  return tile(page, title);
}

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
const RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  env = await createWebTestEnv();
  t = await seedTenants(env);
  server = new RestartableServer(env);
  await server.start();
  const at = { url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` };
  operator = clientFor(at, await t.token('general', 'operator'));
  admin = clientFor(at, await t.token('general', 'admin'));
  nurseApi = clientFor(at, await t.token('general', 'nurse.icu'));
  const icu = t.hospital.general.departments.ICU;
  // 22 alerts on the ICU wall (plus the seeded cardiac arrest): every priority, some acknowledged.
  for (let i = 0; i < 22; i++) {
    const priority = PRIORITIES[i % 4]!;
    const title = `${priority} case ${i + 1}`;
    const a = await operator.alerts.create.mutate({
      title,
      priority,
      alertType: 'medical',
      departmentId: icu,
      roomNumber: String(300 + i),
      description: i === 0 ? 'CPR in progress. Bring crash cart. Family waiting in the corridor; anaesthetist paged twice already.' : `Details for case ${i + 1}`,
    });
    ids.set(title, a.id);
  }
  // A critical that has waited 10 minutes and escalated twice: it must read OVERDUE and come first.
  // (Backdated first: the escalations then carry the older creation time to every cache and board.)
  const late = ids.get('critical case 9')!;
  await env.deps.db.execute(sql`UPDATE alerts SET created_at = now() - interval '10 minutes' WHERE id = ${late}`);
  await admin.alerts.escalate.mutate({ alertId: late });
  await admin.alerts.escalate.mutate({ alertId: late });
  // Acknowledged: a critical and a high (they must sit after every waiting tile).
  await nurseApi.alerts.acknowledge.mutate({ alertId: ids.get('critical case 1')! });
  await nurseApi.alerts.acknowledge.mutate({ alertId: ids.get('high case 2')! });
  browser = await launchBrowser();
  wall = (await openScreen(browser, server.url, { token: await t.token('general', 'nurse.icu'), width: 1920, height: 1080 })).page;
  await live(wall);
});

describe('the ward board on a 1920×1080 wall with 23 alerts', () => {
  it('shows what fits, says "+N more" with what they are, and never scrolls', async () => {
    await wall.getByRole('heading', { name: 'Intensive Care board' }).waitFor();
    await more(wall).waitFor({ timeout: 5_000 });
    const shown = await wall.getByRole('article').count();
    const { alerts } = await nurseApi.alerts.getActive.query();
    expect(alerts.length).toBe(23);
    expect(shown).toBeGreaterThanOrEqual(8);
    expect(shown).toBeLessThan(alerts.length);
    const moreText = (await more(wall).textContent()) ?? '';
    expect(moreText).toContain(`+${alerts.length - shown} more`);
    expect(moreText).toMatch(/waiting/);
    const box = await more(wall).boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(1080);
    expect(await wall.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(1080);
    expect(await wall.getByText(`showing ${shown} of 23`).count()).toBe(1);
    await wall.waitForTimeout(1_100);
    await shot(wall, 'wall-1920x1080');
    await screenshot(wall, 'ward-board-wall', { docs: true }); // the README's wall screen
  });

  it('orders waiting before acknowledged, priority first, the overdue critical on top with OVERDUE in words', async () => {
    const all = await wall.getByRole('article').evaluateAll((els) => els.map((e) => ({ cls: e.className, label: e.getAttribute('aria-label') ?? '', text: e.textContent ?? '' })));
    // Page 1 of a full wall holds only waiting alerts here: both acknowledged ones are on a later page.
    const first = all[0]!;
    expect(first.label).toMatch(/^critical alert: critical case 9, room 308, overdue$/);
    expect(first.text).toMatch(/OVERDUE — escalated to level 2/);
    expect(first.text).toMatch(/Waiting 10m/);
    expect(first.text).toMatch(/Escalation level 2/);
    const ranks = all.map((a) => RANK[a.label.split(' ')[0] as keyof typeof RANK]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(all.every((a) => a.cls.includes('tile-active'))).toBe(true);

    await more(wall).getByRole('button', { name: 'Next page' }).click();
    await more(wall).getByText(/Page 2 of/).waitFor();
    const page2 = await wall.getByRole('article').evaluateAll((els) => els.map((e) => e.className));
    const firstAck = page2.findIndex((c) => c.includes('tile-acknowledged'));
    expect(firstAck).toBeGreaterThanOrEqual(0);
    expect(page2.slice(firstAck).every((c) => c.includes('tile-acknowledged'))).toBe(true);
    // The acknowledged critical comes after the waiting lows: someone is on it.
    const labels = await wall.getByRole('article').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    expect(labels[firstAck]).toMatch(/^critical alert: critical case 1,/);
    await shot(wall, 'wall-1920x1080-page2');
    await firstPage(wall);
    await tile(wall, 'critical case 9').waitFor();
  });

  it('compact tiles fit the whole wall; the "+N more" tile then goes', async () => {
    await more(wall).getByRole('button', { name: 'Compact tiles' }).click();
    await more(wall).waitFor({ state: 'detached', timeout: 3_000 });
    expect(await wall.getByRole('article').count()).toBe(23);
    expect(await wall.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(1080);
    await shot(wall, 'wall-1920x1080-compact');
    await wall.getByText('View', { exact: true }).click();
    await wall.getByRole('button', { name: 'Compact tiles' }).click();
    await wall.getByText('View', { exact: true }).click();
    await more(wall).waitFor();
  });

  it('shows the description on the tile (truncated) and a "Repeated ×N" that agrees with the README', async () => {
    const card = tile(wall, 'critical case 9');
    expect((await card.textContent()) ?? '').toMatch(/Details for case 9/);
    // The README: the first raise again shows "Repeated ×1" (the console: "added as repeat #1").
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '120'::jsonb) WHERE id = ${t.hospital.general.id}`);
    const again = await operator.alerts.create.mutate({ title: 'critical case 5', priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: '304' });
    expect(again.deduplicated).toBe(true);
    expect(again.repeatCount).toBe(1);
    await tile(wall, 'critical case 5').locator('.repeated').getByText('Repeated ×1').waitFor({ timeout: 3_000 });
  });

  it('a tap on a tile opens its details with the full description and the timeline, over the board', async () => {
    await more(wall).getByRole('button', { name: 'Next page' }).click();
    // critical case 1 (acknowledged) has the long description: it is on page 2.
    const card = tile(wall, 'critical case 1');
    await card.waitFor();
    await card.locator('.tile-desc').click();
    const dialog = wall.getByRole('dialog', { name: 'critical case 1' });
    await dialog.waitFor();
    await dialog.getByText('CPR in progress. Bring crash cart. Family waiting in the corridor; anaesthetist paged twice already.').waitFor();
    const timeline = dialog.getByRole('list', { name: 'Timeline' });
    await timeline.getByRole('listitem').nth(1).waitFor({ timeout: 5_000 });
    const lines = (await timeline.getByRole('listitem').allInnerTexts()).map((l) => l.replace(/^\d\d:\d\d:\d\d\s+/, ''));
    expect(lines).toEqual(['Raised', 'Acknowledged by Nia ICU Nurse']);
    await shot(wall, 'wall-detail');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The escalated one says what happened and when the next escalation is.
    await firstPage(wall);
    await tile(wall, 'critical case 9').getByRole('button', { name: 'Details of critical case 9' }).click();
    const d2 = wall.getByRole('dialog', { name: 'critical case 9' });
    await d2.getByRole('list', { name: 'Timeline' }).getByText('Escalated to level 2 (escalated by hand)').waitFor({ timeout: 5_000 });
    expect((await d2.textContent()) ?? '').toMatch(/OVERDUE/);
    await wall.keyboard.press('Escape');
    await d2.waitFor({ state: 'detached' });
  });

  it('acknowledges in one tap with a 5-second undo: Undo leaves it waiting; without Undo it becomes acknowledged', async () => {
    const id = ids.get('high case 6')!;
    const card = tile(wall, 'high case 6');
    await card.getByRole('button', { name: 'Acknowledge' }).click();
    await card.getByText(/Acknowledging in [1-5] s/).waitFor();
    await card.getByRole('button', { name: 'Undo' }).click();
    await card.getByRole('button', { name: 'Acknowledge' }).waitFor();
    await wall.waitForTimeout(6_000);
    expect((await nurseApi.alerts.getById.query({ alertId: id })).alert.status).toBe('active');
    expect(await card.getByText('Waiting for acknowledgement').count()).toBe(1);

    await card.getByRole('button', { name: 'Acknowledge' }).click();
    const tapped = Date.now();
    await wall.waitForTimeout(3_000);
    expect((await nurseApi.alerts.getById.query({ alertId: id })).alert.status).toBe('active'); // still held here
    await expect.poll(async () => (await nurseApi.alerts.getById.query({ alertId: id })).alert.status, { timeout: 5_000, interval: 200 }).toBe('acknowledged');
    expect(Date.now() - tapped).toBeGreaterThanOrEqual(4_500);
    // Acknowledged, it moves behind every waiting tile (here: to a later page), quieter.
    await card.waitFor({ state: 'detached', timeout: 3_000 });
    await (await findTile(wall, 'high case 6')).getByText('Acknowledged by Nia ICU Nurse').waitFor({ timeout: 3_000 });
    await firstPage(wall);
  });

  it('declines with a preset reason in one tap, or "Other…" with free text', async () => {
    const card = await findTile(wall, 'medium case 3');
    await card.getByRole('button', { name: 'Decline' }).click();
    const dialog = wall.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Decline alert' }).click();
    await dialog.getByText('Choose a reason, or Other… to type one').waitFor();
    await dialog.getByRole('button', { name: 'Off the ward' }).click();
    expect(await dialog.getByRole('button', { name: 'Off the ward' }).getAttribute('aria-pressed')).toBe('true');
    await shot(wall, 'wall-decline-presets');
    await dialog.getByRole('button', { name: 'Decline alert' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 5_000 });
    await card.getByText('Declined: “Off the ward”').waitFor({ timeout: 5_000 });

    const other = await findTile(wall, 'medium case 7');
    await other.getByRole('button', { name: 'Decline' }).click();
    await dialog.getByRole('button', { name: 'Other…' }).click();
    await dialog.getByLabel('Reason').waitFor();
    expect(await wall.evaluate(() => document.activeElement?.tagName)).toBe('INPUT');
    await dialog.getByLabel('Reason').fill('Bleep broken, use extension 4411');
    await dialog.getByRole('button', { name: 'Decline alert' }).click();
    await other.getByText('Declined: “Bleep broken, use extension 4411”').waitFor({ timeout: 5_000 });
  });

  it('keyboard: "?" shows the shortcuts; j moves to a tile, a acknowledges it (held), u undoes', async () => {
    await firstPage(wall);
    await wall.locator('body').click({ position: { x: 5, y: 1075 } });
    await wall.keyboard.press('?');
    const help = wall.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect((await help.textContent()) ?? '').toMatch(/Acknowledge the tile/);
    await wall.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    await wall.keyboard.press('j');
    const focused = await wall.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    expect(focused).toMatch(/^critical alert: critical case 9/);
    await wall.keyboard.press('a');
    await tile(wall, 'critical case 9').getByRole('button', { name: 'Undo' }).waitFor();
    await wall.keyboard.press('u');
    await tile(wall, 'critical case 9').getByRole('button', { name: 'Acknowledge' }).waitFor();
  });

  it('a light theme for sunlit rooms, and the same wall at 1366×900', async () => {
    await wall.getByText('View', { exact: true }).click();
    await wall.getByRole('button', { name: 'Light theme' }).click();
    await wall.getByText('View', { exact: true }).click();
    expect(await wall.locator('main.board-light').count()).toBe(1);
    await shot(wall, 'wall-1920x1080-light');
    await wall.setViewportSize({ width: 1366, height: 900 });
    await more(wall).waitFor();
    expect(await wall.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(900);
    await shot(wall, 'wall-1366x900-light');
    await wall.getByText('View', { exact: true }).click();
    await wall.getByRole('button', { name: 'Light theme' }).click();
    await wall.getByText('View', { exact: true }).click();
    await shot(wall, 'wall-1366x900');
  });
});

describe('sound that keeps calling', () => {
  let head: Page;
  beforeAll(async () => {
    // The head doctor's whole-hospital board, filtered to Cardiology by its address (a wall set up once).
    head = (await openScreen(browser, server.url, { token: await t.token('general', 'head'), path: '/?department=CARD#/board', width: 1366, height: 900 })).page;
    await live(head);
  });

  it("the head doctor's board filters by department", async () => {
    await head.getByRole('heading', { name: 'Cardiology board' }).waitFor();
    expect(await tile(head, 'critical case 9').count()).toBe(0);
    expect(await head.getByLabel('Department').inputValue()).toBe('CARD');
    // Every active department of the hospital is offered (from hospitals.getDepartments), not only those with alerts.
    await expect.poll(() => head.getByLabel('Department').locator('option').allTextContents()).toEqual(['All departments', 'Cardiology', 'Emergency', 'Intensive Care']);
  });

  it('a waiting critical chimes again every 15 s until acknowledged (chimes counted in the page), and is announced', async () => {
    await head.getByRole('button', { name: 'Enable sound' }).click();
    await head.getByText('Sound on').waitFor();
    const a = await operator.alerts.create.mutate({ title: 'Arrest in cath lab', priority: 'critical', alertType: 'medical', departmentId: t.hospital.general.departments.CARD, roomNumber: 'Cath 2' });
    await tile(head, 'Arrest in cath lab').waitFor({ timeout: 3_000 });
    await head.getByRole('alert', { name: 'New critical alerts' }).getByText('New critical alert: Arrest in cath lab, room Cath 2, Cardiology.').waitFor();
    await expect.poll(async () => (await criticalChimes(head)).length, { timeout: 40_000, interval: 250 }).toBe(3);
    const at = await criticalChimes(head);
    const gaps = [at[1]! - at[0]!, at[2]! - at[1]!];
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(14_500);
      expect(gap).toBeLessThanOrEqual(16_000);
    }
    // The next escalation is shown on the tile (the hospital's critical policy).
    await head.getByText(/Next escalation in|OVERDUE/).first().waitFor();
    await admin.alerts.acknowledge.mutate({ alertId: a.id });
    await tile(head, 'Arrest in cath lab').getByText(/Acknowledged by/).waitFor({ timeout: 3_000 });
    await head.waitForTimeout(16_500);
    expect((await criticalChimes(head)).length).toBe(3);
  }, 90_000);

  it('escalation has its own sound; Mute is a snooze with a countdown that ends by itself', async () => {
    const a = await operator.alerts.create.mutate({ title: 'Chest pain bay 4', priority: 'medium', alertType: 'medical', departmentId: t.hospital.general.departments.CARD, roomNumber: 'Bay 4' });
    await tile(head, 'Chest pain bay 4').waitFor({ timeout: 3_000 });
    await head.getByRole('log', { name: 'New alerts' }).getByText('New medium alert: Chest pain bay 4, room Bay 4, Cardiology.').waitFor();
    await admin.alerts.escalate.mutate({ alertId: a.id });
    await expect.poll(() => head.evaluate(() => document.documentElement.dataset.lastChime), { timeout: 3_000 }).toBe('escalation');
    await shot(head, 'head-1366x900');

    await head.getByRole('button', { name: 'Mute 5 min' }).click();
    await head.getByText(/^Muted [45]:\d\d$/).waitFor();
    const before = await head.evaluate(() => Number(document.documentElement.dataset.chimes));
    await admin.alerts.escalate.mutate({ alertId: a.id });
    await tile(head, 'Chest pain bay 4').getByText('Escalation level 2').waitFor({ timeout: 3_000 });
    await head.waitForTimeout(300);
    expect(await head.evaluate(() => Number(document.documentElement.dataset.chimes))).toBe(before);
    // The snooze ends by itself: pretend its time is up (as after 5 minutes) by moving its end.
    await head.evaluate(() => localStorage.setItem('clarion.mutedUntil', String(Date.now() + 1_500)));
    await head.reload();
    await live(head);
    await head.getByText(/^Muted 0:0[12]$/).waitFor();
    await head.getByText('Sound off').waitFor({ timeout: 4_000 }); // a reloaded page needs a press again
    await head.getByRole('button', { name: 'Enable sound' }).click();
    await head.getByText('Sound on').waitFor();
  });

  it('a lost connection has its own sound', async () => {
    await server.stop();
    await head.getByRole('alert').filter({ hasText: 'Connection lost' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => head.evaluate(() => document.documentElement.dataset.lastChime), { timeout: 3_000 }).toBe('connection');
    await server.start();
    await live(head);
  });
});

describe('the board on a 390×844 phone', () => {
  it('reflows: no horizontal scroll, a short header, tiles inside the screen, touch targets ≥ 44 px', async () => {
    const { page } = await openScreen(browser, server.url, { token: await t.token('general', 'nurse.icu'), width: 390, height: 844 });
    await live(page);
    await tile(page, 'critical case 9').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const header = await page.locator('.board-head').boundingBox();
    expect(header!.height).toBeLessThan(844 * 0.25);
    const widths = await page.getByRole('article').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    expect(Math.max(...widths)).toBeLessThanOrEqual(390);
    const small = await page.locator('main.board button, main.board select, main.board summary').evaluateAll((els) =>
      els.filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => e.getBoundingClientRect()).filter((r) => r.height < 44 || r.width < 44).length,
    );
    expect(small).toBe(0);
    expect(await more(page).count()).toBe(0); // a phone scrolls instead of paging
    await page.waitForTimeout(1_100);
    await shot(page, 'phone-390x844');
    await page.evaluate(() => window.scrollTo(0, 900));
    await shot(page, 'phone-390x844-scrolled');
  });
});
