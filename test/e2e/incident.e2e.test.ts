import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';
import { runScript } from '../support/cli.js';
import { clientFor } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';

// Issue 19 item 5, web part: #/incident/<id>. A head doctor opens an alert's details on the board,
// follows "Incident record", sees the whole story in the hospital's time zone, downloads the signed
// JSON (which the verify CLI accepts), and prints it without the navigation.
let app: WebApp;
let phone: TelephonyPeer;
let alertId: string;
const TITLE = 'Patient desaturating, bed 2';
const REASON = 'In theatre with a trauma';
const WIDE = { width: 1366, height: 900 };

beforeAll(async () => {
  phone = await startTelephonyPeer();
  app = await startWebApp({ TELEPHONY_URL: phone.baseUrl, TELEPHONY_ACCOUNT_SID: phone.accountSid, TELEPHONY_AUTH_TOKEN: phone.authToken, TELEPHONY_FROM: '+15550100000' });
  (app.env.deps.config as { publicUrl: string }).publicUrl = app.server.url;
  const at = { url: app.server.url, wsUrl: `ws://127.0.0.1:${app.server.port}/trpc` };
  const admin = clientFor(at, await app.t.token('general', 'admin'));
  const operator = clientFor(at, await app.t.token('general', 'operator'));
  const doctor = clientFor(at, await app.t.token('general', 'doctor.icu'));
  const nurse = clientFor(at, await app.t.token('general', 'nurse.icu'));
  const doc = app.t.user('general', 'doctor.icu');
  const nur = app.t.user('general', 'nurse.icu');
  await admin.hospitals.updateSettings.mutate({
    timezone: 'Europe/Berlin',
    escalation: { high: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: doc.id }, { kind: 'user', userId: nur.id }]] } },
  });
  await app.env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES (${doc.hospitalId}, ${doc.id}, 'sms', '+15550100123', now())`);
  await doctor.notifications.setRules.mutate({ rules: { critical: [], high: [{ channel: 'sms', delaySeconds: 0 }], medium: [], low: [] } });
  const a = await operator.alerts.create.mutate({ title: TITLE, description: 'SpO2 84 % on 4 l O2; rapid response requested.', priority: 'high', alertType: 'medical', departmentId: app.t.hospital.general.departments.ICU, roomNumber: '312' });
  alertId = a.id;
  for (let i = 0; i < 200; i++) {
    const { rows } = await app.env.deps.db.execute(sql`SELECT 1 FROM page_attempts WHERE alert_id = ${alertId}`);
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await sendDueAttempts(app.env.deps);
  await phone.statusCallback(`${app.server.url}/hooks/telephony/status`, { sid: phone.messages[0]!.sid, kind: 'sms', status: 'delivered' });
  await nurse.alerts.decline.mutate({ alertId, reason: REASON });
  await doctor.alerts.acknowledge.mutate({ alertId });
});

describe('#/incident/<alertId>', () => {
  it('is linked from the board’s alert details for a head doctor, shows the timeline in the hospital’s zone, and downloads a record the CLI verifies', async () => {
    const { page, context } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'head'), path: '/#/board', ...WIDE });
    await page.getByRole('button', { name: `Details of ${TITLE}` }).click();
    await page.getByRole('link', { name: /Incident record/ }).click();
    await page.getByRole('heading', { name: `Incident record: ${TITLE}`, level: 1 }).waitFor({ timeout: 10_000 });
    expect(page.url()).toContain(`#/incident/${alertId}`);
    const main = page.getByRole('main');
    // Times in the hospital's zone (Berlin in December: CET), with the steps a risk team asks about.
    await main.getByText('Europe/Berlin').waitFor();
    expect(await main.getByRole('table').first().textContent()).toMatch(/CET/);
    await main.getByRole('cell', { name: 'Raised', exact: true }).waitFor();
    await main.getByRole('cell', { name: 'Paged level 0: Dr. Ivan ICU, Nia ICU Nurse' }).waitFor();
    await main.getByRole('cell', { name: `Declined: “${REASON}”` }).waitFor();
    await main.getByText(/SMS to Dr\. Ivan ICU \(\+1•••••0123\) delivered/).waitFor();
    await main.getByRole('cell', { name: 'Acknowledged', exact: true }).first().waitFor();
    expect(await main.textContent()).not.toContain('+15550100123');

    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'incident-record', { docs: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download signed record (JSON)' }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^incident-${alertId}-.*\\.json$`));
    const file = join(mkdtempSync(join(tmpdir(), 'clarion-incident-e2e-')), download.suggestedFilename());
    await download.saveAs(file);
    const r = await runScript('scripts/incident-verify.ts', [file, '--database-url', app.env.databaseUrl], {});
    expect(r.stdout).toContain('VERDICT: VERIFIED');
    expect(r.code).toBe(0);

    // Printing: no navigation, no buttons, black on white.
    await expect(page.locator('.topbar').isVisible()).resolves.toBe(true);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.topbar').isVisible()).toBe(false);
    expect(await page.getByRole('navigation').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Download signed record (JSON)' }).isVisible()).toBe(false);
    const colours = await page.locator('main.incident').evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
    expect(colours).toEqual(['rgb(0, 0, 0)', 'rgb(255, 255, 255)']);
    await screenshot(page, 'incident-record-print', { fullPage: true });
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    await context.close();
  });

  it('fits a 390 px phone without sideways scrolling of the page', async () => {
    const { page, context } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'admin'), path: `/#/incident/${alertId}`, width: 390, height: 844 });
    await page.getByRole('heading', { name: `Incident record: ${TITLE}`, level: 1 }).waitFor({ timeout: 10_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'incident-record-390');
    await context.close();
  });

  it('is not offered to a nurse: the link is absent and the route falls back to her board', async () => {
    const { page, context } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'nurse.icu'), path: `/#/incident/${alertId}`, ...WIDE });
    await page.getByRole('button', { name: `Details of ${TITLE}` }).click();
    await page.locator('#board-detail-title').waitFor();
    expect(await page.getByRole('link', { name: /Incident record/ }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: /Incident record/ }).count()).toBe(0);
    await context.close();
  });

  it('another hospital’s head doctor sees "not found", not the record', async () => {
    const { page, context } = await openScreen(app.browser, app.server.url, { token: await app.t.token('riverside', 'head'), path: `/#/incident/${alertId}`, ...WIDE });
    await page.getByRole('alert').filter({ hasText: /not found/i }).waitFor({ timeout: 10_000 });
    expect(await page.getByText(TITLE).count()).toBe(0);
    await context.close();
  });
});
