import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openScreen, type RestartableServer, startWebApp } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import { clientFor } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';

// Issue 15 point 6: the console's alert history — search, filters, sort, paging, details — and
// correcting an open alert's priority and room. Point 9: times not of today carry their date.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;
let page: Page;
const SHOTS = process.env.SHOTS_DIR ?? '/tmp/shots2';

// The filters (the hidden raise form has a Priority and a Department too).
const filters = () => page.getByRole('form', { name: 'Filter alert history' });
const rows = () => page.getByRole('table', { name: 'Alert history' }).locator('tbody tr');
const titles = async () => (await rows().locator('strong').allTextContents()).map((s) => s.trim());
const show = async () => {
  await page.getByRole('button', { name: 'Show alerts' }).click();
  await page.waitForFunction(() => !document.querySelector('tbody[aria-busy="true"]'));
};

beforeAll(async () => {
  ({ env, t, server, browser } = await startWebApp());
  const api = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'operator'));
  const { ICU, ER } = t.hospital.general.departments;
  // 25 alerts in one search word (more than a page of 20), and one from yesterday.
  for (let i = 1; i <= 25; i++) await api.alerts.create.mutate({ title: `Zeta call ${String(i).padStart(2, '0')}`, priority: i % 2 ? 'low' : 'high', alertType: 'other', departmentId: i % 3 ? ICU : ER, roomNumber: `Z${i}` });
  const old = await api.alerts.create.mutate({ title: 'Yesterday bell', priority: 'medium', alertType: 'other', departmentId: ICU, roomNumber: '9' });
  await env.deps.db.execute(sql`UPDATE alerts SET created_at = now() - interval '1 day' WHERE id = ${old.id}`);
  await env.deps.db.execute(sql`UPDATE alerts SET status = 'resolved', resolved_at = now() WHERE title = 'Zeta call 25'`);
  page = (await openScreen(browser, server.url, { token: await t.token('general', 'operator'), path: '/#/console/history', width: 1366, height: 900 })).page;
  await page.getByRole('table', { name: 'Alert history' }).waitFor();
});

describe('alert history in the console', () => {
  it('searches and pages: 20 a page, Next and Previous', async () => {
    await filters().getByLabel('Search alerts').fill('zeta');
    await show();
    expect(await rows().count()).toBe(20);
    expect((await titles())[0]).toBe('Zeta call 25');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Alert history"] tbody tr').length === 5);
    expect(await titles()).toEqual(['Zeta call 05', 'Zeta call 04', 'Zeta call 03', 'Zeta call 02', 'Zeta call 01']);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1').waitFor();
  });

  it('sorts oldest first and filters by priority, status and department', async () => {
    await filters().getByLabel('Sort').selectOption('oldest');
    await show();
    expect((await titles())[0]).toBe('Zeta call 01');
    await filters().getByLabel('Priority').selectOption('high');
    await filters().getByLabel('Department').selectOption({ label: 'Emergency' });
    await show();
    // high = even i, ER = i divisible by 3: 6, 12, 18, 24
    expect(await titles()).toEqual(['Zeta call 06', 'Zeta call 12', 'Zeta call 18', 'Zeta call 24']);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await filters().getByLabel('Search alerts').fill('zeta');
    await filters().getByLabel('Status').selectOption('resolved');
    await show();
    expect(await titles()).toEqual(['Zeta call 25']);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await filters().getByLabel('Search alerts').fill('no such alert anywhere');
    await show();
    await page.getByText('No alerts match these filters.').waitFor();
  });

  it('filters by day, and shows the date of a time that is not today', async () => {
    const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const yesterday = new Date(Date.now() - 86_400_000);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await filters().getByLabel('Raised from').fill(ymd(yesterday));
    await filters().getByLabel('Raised to').fill(ymd(yesterday));
    await show();
    expect(await titles()).toEqual(['Yesterday bell']);
    // The browser's locale (en-GB here): "1 Dec, 19:55:26" — a day and a time, not the time alone.
    const raised = (await rows().first().locator('time').textContent()) ?? '';
    const dayText = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(yesterday);
    expect(raised).toContain(dayText);
    expect(raised).toMatch(/\d{2}:\d{2}:\d{2}/);
    // A start after the end is said on the field, not sent.
    await filters().getByLabel('Raised from').fill(ymd(new Date()));
    await page.getByText('Must be on or after the start day').waitFor();
    expect(await page.getByRole('button', { name: 'Show alerts' }).isDisabled()).toBe(true);
  });

  it('opens the details of an alert and corrects its priority and room', async () => {
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await filters().getByLabel('Search alerts').fill('Zeta call 07');
    await show();
    await page.getByRole('button', { name: 'Details of Zeta call 07' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('list', { name: 'Timeline' }).waitFor();
    const form = dialog.getByRole('form', { name: 'Correct this alert' });
    expect(await form.getByLabel('Room').getAttribute('maxlength')).toBe('40');
    await form.getByLabel('Priority').selectOption('critical');
    await form.getByLabel('Room').fill('ICU-7');
    await form.getByRole('button', { name: 'Save correction' }).click();
    await form.getByRole('status').filter({ hasText: 'Correction saved.' }).waitFor();
    await dialog.getByText(/Updated/).first().waitFor({ timeout: 5_000 });
    await page.screenshot({ path: `${SHOTS}/console-history-details-1366.png` });
    await dialog.getByRole('button', { name: 'Close' }).click();
    const row = rows().filter({ hasText: 'Zeta call 07' });
    await row.getByText('CRITICAL').waitFor();
    await row.getByText('Room ICU-7').waitFor();
    const { rows: db } = await env.deps.db.execute<{ priority: string; room_number: string }>(sql`SELECT priority, room_number FROM alerts WHERE title = 'Zeta call 07'`);
    expect(db[0]).toEqual({ priority: 'critical', room_number: 'ICU-7' });
  });

  it('a closed alert has no correction form', async () => {
    await filters().getByLabel('Search alerts').fill('Zeta call 25');
    await show();
    await page.getByRole('button', { name: 'Details of Zeta call 25' }).click();
    await page.getByRole('dialog').getByRole('list', { name: 'Timeline' }).waitFor();
    expect(await page.getByRole('form', { name: 'Correct this alert' }).count()).toBe(0);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  });
});
