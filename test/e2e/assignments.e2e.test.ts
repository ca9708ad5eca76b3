import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../server/auth/sessions.js';
import { users } from '../../server/db/schema.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import type { Account, Tenants } from '../support/tenants.js';

// The charge nurse's shift-start screen (people issue): rooms × nurses, one tap per room, the charge
// nurse, Until, Save; read-only with the reason for a nurse who is not charge; head doctors pick the
// department. The seed gives ICU (Nia charge, Dr. Ivan 307–309) and ER (Noah charge) a 12 h shift.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;
/** A second ICU nurse, not charge: the seed has one nurse per department (a third, Omar, widens the grid). */
let nora: { id: string; hospitalId: string };
const RAW_ZOD = /Too big|Too small|expected (string|number|array)|Invalid input/;

beforeAll(async () => {
  ({ env, t, server, browser } = await startWebApp());
  const [row] = await env.deps.db
    .insert(users)
    .values({ hospitalId: t.hospital.general.id, departmentId: t.hospital.general.departments.ICU, email: 'nora.icu@general.test', name: 'Nora Night Nurse', role: 'nurse', emailVerified: true })
    .returning({ id: users.id, hospitalId: users.hospitalId });
  nora = row!;
  await env.deps.db
    .insert(users)
    .values({ hospitalId: t.hospital.general.id, departmentId: t.hospital.general.departments.ICU, email: 'omar.icu@general.test', name: 'Omar Day Nurse', role: 'nurse', emailVerified: true });
});

const as = (account: Account) => t.token('general', account);

async function open(token: string, width = 1366, height = 900): Promise<Page> {
  return (await openScreen(browser, server.url, { token, path: '/#/assignments', width, height })).page;
}

/** The department's current rows, as the pager reads them. */
async function currentRows(departmentId: string) {
  const { rows } = await env.deps.db.execute<{ user_id: string; rooms: string[]; is_charge: boolean; assigned_by: string; until: Date }>(
    sql`SELECT user_id, rooms, is_charge, assigned_by, until FROM care_assignments WHERE department_id = ${departmentId} AND replaced_at IS NULL ORDER BY user_id`,
  );
  return new Map(rows.map((r) => [r.user_id, r]));
}

const cell = (page: Page, room: string, name: string) => page.getByRole('button', { name: `Room ${room}: ${name}`, exact: true });
const pressed = (page: Page, room: string, name: string) => cell(page, room, name).getAttribute('aria-pressed');

/** Controls on the screen shorter than a 44 px touch target (radios have their 44 px label). */
const smallTargets = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('main button, main select, main input:not([type=radio]), .assign-charge-pick')]
      .filter((el) => el.getBoundingClientRect().height < 43.5)
      .map((el) => el.outerHTML.slice(0, 80)),
  );

async function expectNoAxeViolations(page: Page) {
  const v = await axeViolations(page);
  expect(v, describeViolations(v)).toEqual([]);
}

describe('assignments screen', () => {
  it('the charge nurse assigns two rooms with one tap each, sees the gap, and saves', async () => {
    const page = await open(await as('nurse.icu'));
    await page.getByRole('heading', { name: 'Assignments — Intensive Care' }).waitFor();
    // Her own department only: no picker. A nurse may not list users, so her columns are the current list.
    expect(await page.getByLabel('Department').count()).toBe(0);
    await page.getByText(/^Set by Dr\. Harper Head at .* · counts until /).waitFor();
    expect(await pressed(page, '307', 'Dr. Ivan ICU')).toBe('true');
    await cell(page, '307', 'Nia ICU Nurse').click();
    await cell(page, '308', 'Nia ICU Nurse').click();
    expect(await pressed(page, '307', 'Nia ICU Nurse')).toBe('true');
    expect(await pressed(page, '307', 'Dr. Ivan ICU')).toBe('false');
    expect(await pressed(page, '308', 'Nia ICU Nurse')).toBe('true');
    // Tapping her own room frees it: the row says so before Save.
    await cell(page, '312', 'Nia ICU Nurse').click();
    expect(await pressed(page, '312', 'Nia ICU Nurse')).toBe('false');
    await page.getByRole('row', { name: /^312 Unassigned/ }).waitFor();
    await page.getByText('1 unassigned: 312').waitFor();
    expect(await page.getByRole('radio', { name: 'Charge nurse: Nia ICU Nurse' }).isChecked()).toBe(true);
    await expectNoAxeViolations(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1366);
    await page.getByRole('region', { name: 'Rooms and nurses' }).evaluate((el) => el.scrollTo(0, 0));
    await screenshot(page, 'assignments', { docs: true });

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Assignments saved' }).waitFor();
    await page.getByText(/^Set by you at /).waitFor();
    const nia = t.user('general', 'nurse.icu');
    const ivan = t.user('general', 'doctor.icu');
    const rows = await currentRows(t.hospital.general.departments.ICU);
    expect(rows.size).toBe(2);
    expect(rows.get(nia.id)).toMatchObject({ rooms: ['301', '302', '303', '304', '305', '306', '307', '308', '310', '311'], is_charge: true, assigned_by: nia.id });
    expect(rows.get(ivan.id)).toMatchObject({ rooms: ['309'], is_charge: false });
    // Until defaults to the end of the shift: the next 07:00 or 19:00 (UTC in this browser), within 24 h.
    const until = new Date(rows.get(nia.id)!.until);
    expect([7, 19]).toContain(until.getUTCHours());
    expect(until.getTime()).toBeGreaterThan(Date.now());
    expect(until.getTime()).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
    const { rows: audit } = await env.deps.db.execute<{ metadata: Record<string, unknown> }>(
      sql`SELECT metadata FROM audit_logs WHERE action = 'assignment.set' AND user_id = ${nia.id} AND resource_id = ${t.hospital.general.departments.ICU} AND outcome = 'success'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.metadata).toMatchObject({ entries: 2, rooms: 11, chargeUserId: nia.id });
    await page.context().close();
  });

  it('a nurse who is not the charge nurse sees the list read-only, with the reason, and no Save', async () => {
    const { token } = await createSession(env.deps.db, { userId: nora.id, hospitalId: nora.hospitalId, hours: 1, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
    const page = await open(token, 390, 844);
    await page.getByText('Only the charge nurse, Nia ICU Nurse, or a head doctor can change these assignments.').waitFor();
    expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);
    expect(await page.locator('button[aria-pressed]').count()).toBe(0);
    await page.getByRole('row', { name: /^Nia ICU Nurse Charge nurse 301, 302/ }).waitFor();
    await page.getByRole('row', { name: 'Unassigned 312' }).waitFor();
    await page.getByText(/^Set by Nia ICU Nurse at /).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectNoAxeViolations(page);
    await screenshot(page, 'assignments-readonly-390');
    await page.context().close();
  });

  it('a head doctor picks ER on a phone (names stay on top as the rooms scroll) and saves', async () => {
    const page = await open(await as('head'), 390, 844);
    await page.getByLabel('Department').selectOption({ label: 'ER — Emergency' });
    await cell(page, 'E7', 'Noah ER Nurse').click();
    expect(await pressed(page, 'E7', 'Noah ER Nurse')).toBe('true');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The grid scrolls in its own box; the names stay on top when the rooms scroll under them.
    const region = page.getByRole('region', { name: 'Rooms and nurses' });
    const name = page.getByRole('columnheader', { name: /^Noah ER Nurse/ });
    const top = (await name.boundingBox())!.y;
    await region.evaluate((el) => el.scrollBy(0, 300));
    expect(Math.abs((await name.boundingBox())!.y - top)).toBeLessThan(1);
    await region.evaluate((el) => el.scrollTo(0, 0));
    expect(await smallTargets(page)).toEqual([]);
    await expectNoAxeViolations(page);
    await screenshot(page, 'assignments-390');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Assignments saved' }).waitFor();
    const rows = await currentRows(t.hospital.general.departments.ER);
    const noah = t.user('general', 'nurse.er');
    expect(rows.get(noah.id)).toMatchObject({ rooms: ['E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7'], is_charge: true, assigned_by: t.user('general', 'head').id });
    expect(rows.get(t.user('general', 'doctor.er').id)?.rooms).toEqual(['E8', 'E9', 'E10', 'E11', 'E12']);
    await page.context().close();
  });

  it('offers only the department’s rooms; a forced foreign room and a past Until come back in words on the right field', async () => {
    const page = await open(await as('nurse.icu'));
    await cell(page, '301', 'Nia ICU Nurse').waitFor();
    expect(await page.getByRole('button', { name: /^Room 401:/ }).count()).toBe(0);
    await page.getByLabel('Until').fill('2020-01-01T07:00');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Choose a time in the future').waitFor();
    expect(await page.getByLabel('Until').getAttribute('aria-invalid')).toBe('true');

    // Rooms come from the department, so another department's room can only be forced into the request.
    await page.route('**/trpc/assignments.set**', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, { entries: { rooms: string[] }[] }>;
      body['0']!.entries[0]!.rooms.push('401');
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.getByLabel('Until').fill(await page.evaluate(() => {
      const d = new Date(Date.now() + 3 * 3_600_000);
      return d.toISOString().slice(0, 16);
    }));
    await cell(page, '312', 'Dr. Ivan ICU').click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // Columns are sorted by name, so entry 0 is Dr. Ivan: the message sits in his column.
    await page.getByRole('columnheader', { name: /^Dr\. Ivan ICU/ }).getByRole('alert').filter({ hasText: 'Room 401 is in CARD, not ICU' }).waitFor();
    expect(await page.getByRole('columnheader', { name: /^Nia ICU Nurse/ }).getByRole('alert').count()).toBe(0);
    await page.getByText('1 field needs a correction.').waitFor();
    expect(await page.getByLabel('Until').getAttribute('aria-invalid')).toBe('false');
    expect(await page.locator('main').textContent()).not.toMatch(RAW_ZOD);
    expect((await currentRows(t.hospital.general.departments.ICU)).get(t.user('general', 'doctor.icu').id)?.rooms).toEqual(['309']);
    await screenshot(page, 'assignments-error');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('region', { name: 'Rooms and nurses' }).evaluate((el) => el.scrollBy(0, 200));
    await screenshot(page, 'assignments-error-390');
    await page.context().close();
  });

  it('an admin sees every active nurse of the department (a grid wider than the phone scrolls sideways, rooms in place) and gives a room to one not on the list', async () => {
    const page = await open(await as('admin'), 390, 844);
    await page.getByLabel('Department').selectOption({ label: 'ICU — Intensive Care' });
    await cell(page, '312', 'Omar Day Nurse').waitFor();
    // Four columns are wider than the phone: the grid scrolls sideways in its box, the rooms stay put.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const region = page.getByRole('region', { name: 'Rooms and nurses' });
    const sizes = await region.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(sizes.scroll).toBeGreaterThan(sizes.client);
    const roomHeader = page.getByRole('rowheader', { name: /^301/ });
    const before = (await roomHeader.boundingBox())!.x;
    await region.evaluate((el) => el.scrollBy(400, 0));
    expect(Math.abs((await roomHeader.boundingBox())!.x - before)).toBeLessThan(1);
    expect(await smallTargets(page)).toEqual([]);
    await screenshot(page, 'assignments-admin-390');
    await region.evaluate((el) => el.scrollTo(0, 0));
    await cell(page, '312', 'Nora Night Nurse').click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Assignments saved' }).waitFor();
    const rows = await currentRows(t.hospital.general.departments.ICU);
    expect(rows.get(nora.id)).toMatchObject({ rooms: ['312'], is_charge: false });
    expect(rows.get(t.user('general', 'nurse.icu').id)?.is_charge).toBe(true);
    await page.context().close();
  });

  it('when the last shift has run out and nobody is charge, a nurse of the unit starts the shift as its charge nurse', async () => {
    const icu = t.hospital.general.departments.ICU;
    await env.deps.db.execute(sql`UPDATE care_assignments SET starts_at = now() - interval '13 hours', until = now() - interval '1 minute' WHERE department_id = ${icu} AND replaced_at IS NULL`);
    const { token } = await createSession(env.deps.db, { userId: nora.id, hospitalId: nora.hospitalId, hours: 1, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
    const page = await open(token);
    // Nora's own column is there (the unit's nurses come from the staff directory), already ticked as charge.
    await cell(page, '301', 'Nora Night Nurse').click();
    await cell(page, '302', 'Omar Day Nurse').click();
    expect(await page.getByRole('radio', { name: 'Charge nurse: Nora Night Nurse' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Assignments saved' }).waitFor();
    const rows = await currentRows(icu);
    expect(rows.get(nora.id)).toMatchObject({ rooms: ['301'], is_charge: true, assigned_by: nora.id });
    expect(rows.get(t.user('general', 'nurse.icu').id)).toBeUndefined();
    await page.context().close();
  });
});
