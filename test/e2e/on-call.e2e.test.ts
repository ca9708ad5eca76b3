import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import type { Tenants } from '../support/tenants.js';

// Issue 16 point 5: the on-call calendar (next 14 days), overrides by drag and by form, a doctor
// covering a shift herself, a new rotation whose gap before its first shift is visible.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;

beforeAll(async () => {
  ({ env, t, server, browser } = await startWebApp());
});

const overrides = async () =>
  (
    await env.deps.db.execute<{ id: string; user_id: string; starts_at: Date; ends_at: Date; reason: string | null }>(
      sql`SELECT id, user_id, starts_at, ends_at, reason FROM schedule_overrides WHERE hospital_id = ${t.hospital.general.id} ORDER BY created_at`,
    )
  ).rows;
const audited = async (action: string) =>
  Number((await env.deps.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM audit_logs WHERE hospital_id = ${t.hospital.general.id} AND action = ${action}`)).rows[0]!.n);

async function open(account: 'head' | 'doctor.icu' | 'nurse.icu', width = 1366, height = 900): Promise<Page> {
  const { page } = await openScreen(browser, server.url, { token: await t.token('general', account), path: '/#/oncall', width, height });
  await page.getByRole('heading', { name: 'On call', level: 1 }).waitFor();
  await page.getByRole('list', { name: 'On call, next 14 days' }).waitFor();
  await page.locator('.oncall-seg').first().waitFor();
  return page;
}

describe('on-call calendar', () => {
  it('shows who is on call now and 14 days of shifts of the seeded rotation', async () => {
    const head = await open('head');
    await head.getByText(/On call now:/).waitFor();
    expect(await head.locator('.oncall-day:not(.oncall-axis)').count()).toBe(14);
    // The seed's daily rotation: head, ICU doctor, ER doctor take turns.
    for (const name of ['Dr. Harper Head', 'Dr. Ivan ICU', 'Dr. Emma ER']) expect(await head.getByRole('button', { name: new RegExp(`^${name}, `) }).count()).toBeGreaterThan(0);
    await screenshot(head, 'on-call', { docs: true });
  });

  it('a head doctor drags a window on a day and gives it to a colleague; the calendar shows the override', async () => {
    const head = await open('head');
    const before = (await overrides()).length;
    const track = head.locator('.oncall-track').nth(2);
    const box = (await track.boundingBox())!;
    // From 06:00 to 12:00 of the third day (a quarter and a half of the bar).
    await head.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await head.mouse.down();
    await head.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
    await head.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await head.mouse.up();
    expect(await head.getByLabel('From', { exact: true }).inputValue()).toMatch(/T06:00$/);
    expect(await head.getByLabel('To', { exact: true }).inputValue()).toMatch(/T12:00$/);
    await head.getByLabel('Who covers').selectOption({ label: 'Nia ICU Nurse · Nurse · Intensive Care' });
    await head.getByLabel('Reason (optional)').fill('Swap');
    await head.getByRole('button', { name: 'Save override' }).click();
    await head.getByRole('status').filter({ hasText: 'Override saved' }).waitFor();
    const rows = await overrides();
    expect(rows.length).toBe(before + 1);
    const o = rows.at(-1)!;
    expect(o.user_id).toBe(t.user('general', 'nurse.icu').id);
    expect(new Date(o.ends_at).getTime() - new Date(o.starts_at).getTime()).toBe(6 * 3_600_000);
    expect(new Date(o.starts_at).getUTCHours()).toBe(6);
    expect(o.reason).toBe('Swap');
    await head.getByRole('button', { name: /^Nia ICU Nurse \(override\), / }).first().waitFor();
    expect(await audited('schedule.override_added')).toBeGreaterThanOrEqual(1);
  });

  it('refuses a window that ends before it starts, in words, and saves nothing', async () => {
    const head = await open('head');
    const before = (await overrides()).length;
    await head.getByLabel('From', { exact: true }).fill('2026-12-20T10:00');
    await head.getByLabel('To', { exact: true }).fill('2026-12-20T08:00');
    await head.getByRole('button', { name: 'Save override' }).click();
    await head.getByText('Must be after from').waitFor();
    expect(await head.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect((await overrides()).length).toBe(before);
  });

  it('a doctor picks a colleague’s shift and covers it herself, then removes her override', async () => {
    const doc = await open('doctor.icu');
    expect(await doc.getByLabel('Who covers').count()).toBe(0);
    await doc.getByText('Covering:').waitFor();
    await doc.getByRole('button', { name: /^Dr\. Emma ER, / }).first().click();
    expect(await doc.getByLabel('From', { exact: true }).inputValue()).not.toBe('');
    await doc.getByRole('button', { name: 'Save override' }).click();
    await doc.getByRole('status').filter({ hasText: 'Override saved' }).waitFor();
    const mine = (await overrides()).at(-1)!;
    expect(mine.user_id).toBe(t.user('general', 'doctor.icu').id);
    const shift = doc.getByRole('button', { name: /^Dr\. Ivan ICU \(override\), / }).first();
    await shift.click();
    await doc.getByRole('button', { name: 'Remove override' }).click();
    await shift.waitFor({ state: 'detached' });
    expect((await overrides()).some((o) => o.id === mine.id)).toBe(false);
    expect(await doc.getByRole('button', { name: 'New schedule' }).count()).toBe(0);
  });

  it('a head doctor creates a rotation starting tomorrow: today is a visible gap, then the shifts follow', async () => {
    const head = await open('head');
    await head.getByRole('button', { name: 'New schedule' }).click();
    await head.getByRole('button', { name: 'Create schedule' }).click();
    await head.getByText('Add at least one participant').waitFor();
    await head.getByLabel('Name').fill('ICU nurse nights');
    for (const label of ['Nia ICU Nurse · Nurse · Intensive Care', 'Noah ER Nurse · Nurse · Emergency']) {
      await head.getByLabel('Add a participant').selectOption({ label });
      await head.getByRole('button', { name: 'Add', exact: true }).click();
    }
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await head.getByLabel('First shift starts').fill(`${tomorrow}T19:00`);
    await head.getByLabel('Shift length (hours)').fill('12');
    await head.getByRole('button', { name: 'Create schedule' }).click();
    await head.getByRole('heading', { name: /^ICU nurse nights/ }).waitFor();
    await head.getByRole('button', { name: /^Nobody on call, / }).first().waitFor();
    await head.getByRole('button', { name: /^Nia ICU Nurse, .* 19:00 – / }).first().waitFor();
    await head.getByText('Nobody is on call now').waitFor();
    expect(await audited('schedule.created')).toBeGreaterThanOrEqual(1);
    await screenshot(head, 'on-call-new-rotation');
  });

  it('fits a phone', async () => {
    const nurse = await open('nurse.icu', 390, 844);
    const overflow = await nurse.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(nurse, 'on-call-390');
  });
});
