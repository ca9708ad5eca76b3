import { sql } from 'drizzle-orm';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';
import { clientFor } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';

// Channels issue, web part 2: what each message to a paged person did, on the alert detail and the
// console ("Dr. Ivan ICU … — SMS delivered 00:03, voice due 01:00"), the lock-screen detail setting
// and role defaults, and the admin's list of people Clarion reaches on screens only. The SMS goes
// through the provider-shaped peer and its delivery comes back as the provider's signed callback.
let app: WebApp;
let phone: TelephonyPeer;
let api: Record<'admin' | 'operator' | 'doctor', ReturnType<typeof clientFor>>;
const DOCTOR_PHONE = '+15550100123';
const WIDE = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

beforeAll(async () => {
  phone = await startTelephonyPeer();
  app = await startWebApp({ TELEPHONY_URL: phone.baseUrl, TELEPHONY_ACCOUNT_SID: phone.accountSid, TELEPHONY_AUTH_TOKEN: phone.authToken, TELEPHONY_FROM: '+15550100000' });
  // The provider calls back the URL it was given, signed for it: this server's.
  (app.env.deps.config as { publicUrl: string }).publicUrl = app.server.url;
  const at = { url: app.server.url, wsUrl: `ws://127.0.0.1:${app.server.port}/trpc` };
  api = {
    admin: clientFor(at, await app.t.token('general', 'admin')),
    operator: clientFor(at, await app.t.token('general', 'operator')),
    doctor: clientFor(at, await app.t.token('general', 'doctor.icu')),
  };
  const doc = app.t.user('general', 'doctor.icu');
  await api.admin.hospitals.updateSettings.mutate({ escalation: { high: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: doc.id }]] } } });
  // Her verified phone (verification has its own e2e, reach.e2e) and her rules: SMS at once, a call after a minute.
  await app.env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES
    (${doc.hospitalId}, ${doc.id}, 'sms', ${DOCTOR_PHONE}, now()), (${doc.hospitalId}, ${doc.id}, 'voice', ${DOCTOR_PHONE}, now())`);
  const smsThenCall = [
    { channel: 'sms' as const, delaySeconds: 0 },
    { channel: 'voice' as const, delaySeconds: 60 },
  ];
  await api.doctor.notifications.setRules.mutate({ rules: { critical: smsThenCall, high: smsThenCall, medium: smsThenCall, low: smsThenCall } });
  // The ICU nurse is on a rota with nothing set up: the gap the admin list puts first.
  await api.admin.schedules.create.mutate({ name: 'ICU nights', rotation: { participants: [app.t.user('general', 'nurse.icu').id], startsAt: new Date().toISOString(), shiftHours: 12 } });
});
// Each test sends only its own alert's messages.
beforeEach(async () => {
  phone.reset();
  await app.env.deps.db.execute(sql`UPDATE page_attempts SET status = 'cancelled' WHERE status IN ('queued', 'sending')`);
});

async function raise(title: string) {
  const a = await api.operator.alerts.create.mutate({ title, priority: 'high', alertType: 'medical', departmentId: app.t.hospital.general.departments.ICU, roomNumber: '312' });
  // The server pages right after its commit.
  for (let i = 0; i < 100; i++) {
    const { rows } = await app.env.deps.db.execute(sql`SELECT 1 FROM page_attempts WHERE alert_id = ${a.id}`);
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return a;
}
const open = async (account: 'doctor.icu' | 'operator' | 'admin', path: string, size = WIDE) => (await openScreen(app.browser, app.server.url, { token: await app.t.token('general', account), path, ...size })).page;
const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
/** The console's timeline dialog of one alert. */
async function consoleDetails(page: Page, title: string): Promise<Locator> {
  await page.getByRole('row').filter({ hasText: title }).getByRole('button', { name: `Details of ${title}` }).click();
  const dialog = page.getByRole('dialog', { name: `Alert timeline: ${title}` });
  await dialog.waitFor();
  return dialog;
}
/** The doctor's line on the pages list (one person a line, under "Paged, level 0:"). */
const doctorLine = (dialog: Locator) => dialog.getByRole('list', { name: 'Pages' }).locator('li.page').filter({ hasText: 'Dr. Ivan ICU' });
async function expectAccessible(page: Page) {
  const violations = await axeViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}
const fitsWidth = async (page: Page, width: number) => expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
/** Visible controls under 44 px tall at phone size (the measure of small-screens.e2e). */
const smallTargets = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, a[href], input:not([type=checkbox]):not([type=radio]), select')]
      .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 43.5)
      .map((el) => (el.getAttribute('aria-label') ?? el.textContent ?? el.tagName).trim()),
  );

describe('page attempts on the alert detail and the console', () => {
  it('says SMS sent then, after the provider’s callback, delivered — live — with the call still due', async () => {
    const TITLE = 'Desaturation bed 2';
    const a = await raise(TITLE);
    await sendDueAttempts(app.env.deps);
    expect(phone.messages.map((m) => m.params.To)).toEqual([DOCTOR_PHONE]);

    // The paged doctor's own board: the detail dialog of the tile.
    const board = await open('doctor.icu', '/#/board');
    await live(board);
    await board.getByRole('button', { name: `Details of ${TITLE}` }).click();
    const detail = board.getByRole('dialog', { name: TITLE });
    await doctorLine(detail).getByText(/SMS sent 00:0\d, voice due 01:00/).waitFor({ timeout: 10_000 });

    const operator = await open('operator', '/#/console');
    const dialog = await consoleDetails(operator, TITLE);
    const line = doctorLine(dialog);
    await line.getByText(/SMS sent 00:0\d, voice due 01:00/).waitFor({ timeout: 10_000 });
    expect(await line.textContent()).toMatch(/^Dr\. Ivan ICU \(named; paged \d\d:\d\d:\d\d, (read \d\d:\d\d:\d\d, )?no answer yet\) — SMS sent 00:0\d, voice due 01:00$/);
    await screenshot(operator, 'attempts-console-sent-1366');

    // The provider reports the SMS delivered: both open dialogs show it without being reopened.
    const sid = phone.messages[0]!.sid;
    expect(await phone.statusCallback(`${app.server.url}/hooks/telephony/status`, { sid, kind: 'sms', status: 'delivered' })).toBe(204);
    await line.getByText(/SMS delivered \d\d:\d\d, voice due 01:00/).waitFor({ timeout: 8_000 });
    await doctorLine(detail).getByText(/SMS delivered \d\d:\d\d/).waitFor({ timeout: 10_000 });
    const { rows } = await app.env.deps.db.execute<{ status: string }>(sql`SELECT status::text FROM page_attempts WHERE alert_id = ${a.id} ORDER BY step`);
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'queued']);
    await expectAccessible(operator);
    await screenshot(operator, 'attempts-timeline', { docs: true });
    await screenshot(board, 'attempts-board-detail-1366');
    await expectAccessible(board);

    // At 390 px the same dialog wraps instead of scrolling sideways.
    const small = await open('operator', '/#/console', PHONE);
    const smallDialog = await consoleDetails(small, TITLE);
    await doctorLine(smallDialog).getByText(/SMS delivered/).waitFor();
    await doctorLine(smallDialog).scrollIntoViewIfNeeded();
    await fitsWidth(small, 390);
    await screenshot(small, 'attempts-timeline-390');
    await expectAccessible(small);
    await Promise.all([board.context().close(), operator.context().close(), small.context().close()]);
  });

  it('a refused SMS shows its reason, and the call an acknowledgement made moot reads “not needed”', async () => {
    const TITLE = 'Arrhythmia bed 5';
    const a = await raise(TITLE);
    phone.failNext(1, 400, { code: 21610, message: 'Unsubscribed recipient' });
    await sendDueAttempts(app.env.deps);
    await api.doctor.alerts.acknowledge.mutate({ alertId: a.id });
    // The refusal made the call due at once; the sender finds the alert answered and cancels it.
    await sendDueAttempts(app.env.deps);
    expect(phone.calls).toHaveLength(0);
    const operator = await open('operator', '/#/console');
    const line = doctorLine(await consoleDetails(operator, TITLE));
    await line.getByText(/acknowledged \d\d:\d\d:\d\d\) — SMS failed 00:0\d — .*Unsubscribed recipient.*, call not needed$/).waitFor({ timeout: 10_000 });
    // The failure is said in words and weight as well as colour.
    expect(await line.locator('.attempt-failed').textContent()).toMatch(/failed/);
    await screenshot(operator, 'attempts-failed-1366');
    await operator.context().close();
  });
});

describe('settings › notifications', () => {
  it('Full warns about lock screens and stays chosen after a reload; a nurse default with a shorter later step is refused, then saved', async () => {
    const page = await open('admin', '/#/admin/settings');
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    const minimal = page.getByRole('radio', { name: /^Minimal — no patient detail on lock screens \(recommended\)/ });
    const full = page.getByRole('radio', { name: /^Full — adds the alert title/ });
    expect(await minimal.isChecked()).toBe(true);
    const warning = page.getByText(/lock screens show the title to anyone nearby/);
    expect(await warning.count()).toBe(0);
    await full.check();
    await warning.waitFor();

    const nurse = page.getByRole('group', { name: 'Nurse', exact: true });
    await nurse.getByRole('checkbox', { name: "This hospital's steps for nurses" }).check();
    const critical = page.getByRole('group', { name: 'Nurse Critical' });
    await critical.getByRole('listitem').nth(2).getByLabel('After (seconds)').fill('10');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await critical.getByText('Each step waits at least as long as the one before').waitFor();
    await page.getByText('1 field needs a correction.').waitFor();
    await critical.getByRole('listitem').nth(2).getByLabel('After (seconds)').fill('90');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('group', { name: 'Notifications' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'settings-notifications', { docs: true });

    const { rows } = await app.env.deps.db.execute<{ s: { notificationDetail: string; notificationDefaults?: Record<string, { critical: { delaySeconds: number }[] }> } }>(
      sql`SELECT settings AS s FROM hospitals WHERE id = ${app.t.hospital.general.id}`,
    );
    expect(rows[0]!.s.notificationDetail).toBe('full');
    expect(rows[0]!.s.notificationDefaults?.nurse?.critical.map((x) => x.delaySeconds)).toEqual([0, 30, 90]);

    await page.reload();
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    expect(await page.getByRole('radio', { name: /^Full/ }).isChecked()).toBe(true);
    await page.getByText(/lock screens show the title to anyone nearby/).waitFor();
    expect(await page.getByRole('group', { name: 'Nurse Critical' }).getByRole('listitem').nth(2).getByLabel('After (seconds)').inputValue()).toBe('90');
    await page.context().close();

    const small = await open('admin', '/#/admin/settings', PHONE);
    const section = small.getByRole('group', { name: 'Notifications' });
    await section.waitFor();
    await section.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await fitsWidth(small, 390);
    expect(await smallTargets(small)).toEqual([]);
    await screenshot(small, 'settings-notifications-390');
    await small.context().close();
  });
});

describe('admin › reach', () => {
  it('lists who a page reaches on screens only, people on a schedule first and flagged', async () => {
    const page = await open('admin', '/#/admin/reach');
    await page.getByRole('heading', { name: 'Who Clarion cannot reach beyond the screens', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: 'People reached on screens only' });
    const nurse = table.getByRole('row').filter({ hasText: 'Nia ICU Nurse' });
    await nurse.waitFor();
    expect(await nurse.getByRole('cell').allInnerTexts()).toEqual(['Nia ICU Nurse On a schedule', 'Nurse', 'Intensive Care', 'All priorities', 'Nothing yet', 'ICU nights']);
    // Everyone on a schedule (flagged) comes before everyone who is not.
    const flagged = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.textContent?.includes('On a schedule') ?? false));
    expect(flagged.indexOf(false)).toBeGreaterThan(0);
    expect(flagged.slice(flagged.indexOf(false))).not.toContain(true);
    // The doctor has a verified phone on every priority's steps: not listed.
    expect(await table.getByRole('row').filter({ hasText: 'Dr. Ivan ICU' }).count()).toBe(0);
    expect(await table.getByRole('row').filter({ hasText: 'Noah ER Nurse' }).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'unreachable', { docs: true });
    await page.context().close();

    const small = await open('admin', '/#/admin/reach', PHONE);
    await small.getByRole('table', { name: 'People reached on screens only' }).waitFor();
    await fitsWidth(small, 390);
    expect(await smallTargets(small)).toEqual([]);
    await screenshot(small, 'unreachable-390', { fullPage: true });
    await small.context().close();
  });

  it('says so when everyone who can be paged has a phone (Riverside: SMS for every role, a number each)', async () => {
    const riverside = app.t.hospital.riverside.id;
    const smsOnly = [{ channel: 'sms' as const, delaySeconds: 0 }];
    const rules = { critical: smsOnly, high: smsOnly, medium: smsOnly, low: smsOnly };
    const admin = clientFor({ url: app.server.url, wsUrl: `ws://127.0.0.1:${app.server.port}/trpc` }, await app.t.token('riverside', 'admin'));
    await admin.hospitals.updateSettings.mutate({ notificationDefaults: { nurse: rules, doctor: rules, head_doctor: rules } });
    await app.env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at)
      SELECT hospital_id, id, 'sms', '+1555020' || lpad((row_number() OVER (ORDER BY id))::text, 4, '0'), now()
      FROM users WHERE hospital_id = ${riverside} AND role IN ('nurse', 'doctor', 'head_doctor')`);
    const { page } = await openScreen(app.browser, app.server.url, { token: await app.t.token('riverside', 'admin'), path: '/#/admin/reach', ...WIDE });
    await page.getByText('Everyone who can be paged has a phone or device set up.').waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    await page.context().close();
  });
});
