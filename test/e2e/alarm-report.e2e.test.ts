import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { getAlarmReport } from '../../server/audit/alarm-report.js';
import type { AlarmReport } from '../../server/audit/alarm-report-schemas.js';
import { seedAlarmMonth, setZone } from '../audit/alarm-fixture.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { DOCS_SCREENSHOT_DIR, openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';

// Issue 19 item 4, the screen: Admin › Alarm load over four weeks of generated load (Berlin time), the
// numbers on screen are the server's, the CSV downloads through the button, and it reads at 390 px.
let app: WebApp;
let page: Page;
let expected: AlarmReport;
const FROM = '2026-11-02';
const TO = '2026-11-29';
const PERIOD = { from: '2026-11-01T23:00:00.000Z', to: '2026-11-29T23:00:00.000Z' };

beforeAll(async () => {
  app = await startWebApp();
  const g = app.t.hospital.general.id;
  await setZone(app.env, g);
  await seedAlarmMonth(app.env, app.t, `${FROM}T00:00`, 28);
  const admin = app.t.user('general', 'admin');
  expected = await getAlarmReport(app.env.deps.db, { userId: admin.id, hospitalId: g, ip: null, userAgent: 'test', sessionId: null }, PERIOD, 'UTC');
  ({ page } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'admin'), path: '/#/admin/alarms', width: 1366, height: 900 }));
  await page.getByRole('heading', { name: 'Alarm-load report', level: 1 }).waitFor({ timeout: 10_000 });
}, 180_000);

async function generate(p: Page) {
  await p.getByText('Days and shifts are Europe/Berlin time.').waitFor();
  await p.getByLabel('From (day)').fill(FROM);
  await p.getByLabel('To (day, included)').fill(TO);
  await p.getByRole('button', { name: 'Generate report' }).click();
  await p.getByRole('heading', { name: 'Every department and shift' }).waitFor({ timeout: 15_000 });
}

const stat = (p: Page, label: string) => p.locator('.alarm-stats div').filter({ has: p.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');

describe('Admin › Alarm load', () => {
  it('shows the server’s figures for the period, with charts and the heat map', async () => {
    expect(expected.total.alerts).toBeGreaterThan(300);
    await generate(page);
    await page.getByRole('heading', { name: 'All departments, 2 Nov 2026 – 29 Nov 2026' }).waitFor();
    expect(await stat(page, 'Alerts raised').textContent()).toBe(String(expected.total.alerts));
    expect(await stat(page, 'Repeats folded in').textContent()).toBe(String(expected.total.repeats));
    expect(await stat(page, 'Escalations').textContent()).toBe(String(expected.total.escalations));
    expect(await stat(page, 'Answered within first timeout').textContent()).toBe(
      `${Math.round((expected.total.shareWithinFirstTimeout ?? 0) * 100)}%${expected.total.acknowledgedWithinFirstTimeout} of ${expected.total.needingResponse}`,
    );
    expect(await page.locator('figure svg.recharts-surface').count()).toBeGreaterThanOrEqual(7);
    // The heat map is a table: Monday 08:00 holds the server's count.
    const monday8 = expected.busiestHours.find((c) => c.dayOfWeek === 1 && c.hour === 8)?.count ?? 0;
    const cell = page.getByRole('table', { name: 'Alerts raised by day of the week and hour of the day' }).locator('tbody tr').nth(0).locator('td').nth(8);
    expect(await cell.textContent()).toBe(monday8 ? String(monday8) : '');
    // Each chart has its table: the noisiest source is first.
    await page.locator('figure').filter({ hasText: 'Noisiest sources' }).getByText('Show as a table').click();
    const sourceTable = page.getByRole('table', { name: 'Noisiest sources' });
    expect(await sourceTable.locator('tbody tr').first().locator('td').nth(1).textContent()).toBe(String(expected.noisiestSources[0]!.alerts));
    await page.locator('figure').filter({ hasText: 'Noisiest sources' }).getByText('Show as a table').click();
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await page.evaluate(() => window.scrollTo(0, 0));
    mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${DOCS_SCREENSHOT_DIR}/alarm-report.png`, fullPage: true });
    await screenshot(page, 'alarm-report-top');
    for (const [i, f] of (await page.locator('.report figure').all()).entries()) await f.screenshot({ path: `test-artifacts/screenshots/alarm-report-figure-${i}.png` });
  });

  it('downloads the CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('clarion-alarm-report-2026-11-02-to-2026-11-30.csv');
    await page.getByRole('status').filter({ hasText: 'Saved clarion-alarm-report-2026-11-02-to-2026-11-30.csv' }).waitFor();
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).split('\n');
    expect(lines[0]).toBe('Clarion alarm-load report');
    expect(lines[1]).toBe('Period (local time),2026-11-02 00:00,2026-11-30 00:00');
    const total = lines.find((l) => l.startsWith('All departments,All shifts,'));
    expect(total?.split(',')[2]).toBe(String(expected.total.alerts));
    expect(lines).toContain('Noisiest rooms');
  });

  it('narrows to one department and refuses a period over 93 days without asking the server', async () => {
    await page.getByLabel('Department', { exact: true }).selectOption({ label: 'Intensive Care' });
    await page.getByRole('button', { name: 'Generate report' }).click();
    await page.getByRole('heading', { name: 'Intensive Care, 2 Nov 2026 – 29 Nov 2026' }).waitFor();
    const icu = expected.byDepartment.find((d) => d.departmentName === 'Intensive Care')!;
    expect(await stat(page, 'Alerts raised').textContent()).toBe(String(icu.alerts));
    await page.getByLabel('From (day)').fill('2026-01-01');
    await page.getByRole('button', { name: 'Generate report' }).click();
    await page.getByText('The report covers at most 93 days: choose a shorter period').waitFor();
    await page.getByLabel('Shifts start at').fill('7:00');
    await page.getByLabel('From (day)').fill(FROM);
    await page.getByRole('button', { name: 'Generate report' }).click();
    await page.getByText('Use HH:MM, 24-hour (07:00)').waitFor();
  });

  it('reads on a phone: no sideways scroll, the heat map scrolls in its own box', async () => {
    const { context, page: phone } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'admin'), path: '/#/admin/alarms', width: 390, height: 844 });
    await generate(phone);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const violations = await axeViolations(phone);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(phone, 'alarm-report-390', { fullPage: true });
    await context.close();
  });
});
