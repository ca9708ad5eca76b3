import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EscalationTarget } from '../../server/hospitals/settings.js';
import { eventually } from '../realtime/helpers.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';
import { clientFor } from '../support/server.js';

// Issue 16 ("people"): an alert paged to me shows on My alerts live, with why; I acknowledge or decline
// it there. The ER doctor is paged an ICU alert: she sees it only because she was paged.
let app: WebApp;
let api: Record<'admin' | 'operator', ReturnType<typeof clientFor>>;
let doctorEr: Page;
let nurseEr: Page;

const PHONE = { width: 390, height: 844 };
const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
const list = (page: Page) => page.getByRole('region', { name: 'Alerts paged to me' });
const article = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(title) });
const tile = (page: Page, title: string) => list(page).locator(article(page, title));
/** The tile with its "Paged: … · Level … · You declined" line above it. */
const item = (page: Page, title: string) => list(page).locator('.mine-item').filter({ has: article(page, title) });
const id = (account: 'doctor.er' | 'nurse.er') => app.t.user('general', account).id;

/** The high chain through the API (its validation too); the seed leaves it off, so nothing pages until here. */
const chain = (targets: EscalationTarget[][] | null) => api.admin.hospitals.updateSettings.mutate({ escalation: { high: { targets } } });

const raiseIcu = (title: string) =>
  api.operator.alerts.create.mutate({ title, priority: 'high', alertType: 'medical', departmentId: app.t.hospital.general.departments.ICU, roomNumber: '312' });

async function row<T>(query: ReturnType<typeof sql>): Promise<T | undefined> {
  return (await app.env.deps.db.execute(query)).rows[0] as T | undefined;
}
const pageOf = (alertId: string, userId: string) =>
  row<{ level: number; response: string | null; responded_at: string | null }>(
    sql`SELECT level, response::text, responded_at FROM alert_pages WHERE alert_id = ${alertId} AND user_id = ${userId} ORDER BY level DESC LIMIT 1`,
  );
const alertRow = (alertId: string) => row<{ status: string; level: number; acked_by: string | null }>(sql`SELECT status::text, escalation_level AS level, acknowledged_by AS acked_by FROM alerts WHERE id = ${alertId}`);

beforeAll(async () => {
  app = await startWebApp();
  const wsUrl = `ws://127.0.0.1:${app.server.port}/trpc`;
  api = {
    admin: clientFor({ url: app.server.url, wsUrl }, await app.t.token('general', 'admin')),
    operator: clientFor({ url: app.server.url, wsUrl }, await app.t.token('general', 'operator')),
  };
  doctorEr = (await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'doctor.er'), path: '/#/mine', ...PHONE })).page;
  nurseEr = (await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'nurse.er'), path: '/#/mine', ...PHONE })).page;
  await Promise.all([live(doctorEr), live(nurseEr)]);
});

describe('My alerts', () => {
  it('says so when nothing is paged, even with my department’s alerts open on the board', async () => {
    await doctorEr.getByRole('heading', { name: 'My alerts', level: 1 }).waitFor();
    await list(doctorEr).getByText('Nothing paged to you').waitFor();
    await doctorEr.getByText('0 waiting for you').waitFor();
    expect(await list(doctorEr).getByRole('article').count()).toBe(0);
    // The seed's ER alerts (Patient fall, Smoke detector) are on the ER board, not here: nobody paged her.
    const { alerts } = await api.operator.alerts.getActive.query();
    expect(alerts.some((a) => a.departmentId === app.t.hospital.general.departments.ER)).toBe(true);
    await screenshot(doctorEr, 'my-alerts-empty');
  });

  it('shows an ICU alert paged to the ER doctor live, without a reload, with why she was paged', async () => {
    await chain([[{ kind: 'user', userId: id('doctor.er') }], [{ kind: 'user', userId: id('nurse.er') }]]);
    const navigations: string[] = [];
    doctorEr.on('framenavigated', (f) => navigations.push(f.url()));
    const a = await raiseIcu('Desaturation');
    await tile(doctorEr, 'Desaturation').waitFor({ timeout: 10_000 });
    expect(navigations).toEqual([]); // it came over the live subscription, not a reload
    const why = item(doctorEr, 'Desaturation').locator('.mine-why');
    await why.getByText('Paged: you, by name').waitFor(); // the real reason arrives from alerts.getById after the placeholder
    expect(await why.textContent()).toMatch(/Level 0/);
    await doctorEr.getByText('1 waiting for you').waitFor();
    expect(await tile(doctorEr, 'Desaturation').getAttribute('aria-label')).toBe('high alert: Desaturation, room 312');
    expect(await list(doctorEr).getByText('Nothing paged to you').count()).toBe(0);
    // The ICU alert is outside her department: she sees it only because she was paged (nobody else was).
    expect((await pageOf(a.id, id('doctor.er')))?.level).toBe(0);
    expect(await pageOf(a.id, id('nurse.er'))).toBeUndefined();
    expect(await list(nurseEr).getByText('Nothing paged to you').count()).toBe(1);
    await doctorEr.waitForTimeout(2_100); // the ages tick
    await screenshot(doctorEr, 'my-alerts', { docs: true });
  });

  it('acknowledging from My alerts (after the undo hold) acknowledges the alert and answers the page', async () => {
    const a = (await api.operator.alerts.getActive.query()).alerts.find((x) => x.title === 'Desaturation')!;
    const card = tile(doctorEr, 'Desaturation');
    await card.getByRole('button', { name: 'Acknowledge' }).click();
    await card.getByRole('button', { name: 'Undo' }).waitFor();
    expect((await alertRow(a.id))?.status).toBe('active'); // held, not sent yet
    await card.getByText('Acknowledged by Dr. Emma ER').waitFor({ timeout: 10_000 });
    await item(doctorEr, 'Desaturation').getByText(/^You acknowledged/).waitFor({ timeout: 5_000 });
    expect(await alertRow(a.id)).toMatchObject({ status: 'acknowledged', acked_by: id('doctor.er') });
    await eventually(async () => (await pageOf(a.id, id('doctor.er')))?.response === 'acknowledged', 3_000, 'page answered');
    await doctorEr.getByText('0 waiting for you').waitFor();
    // Resolved elsewhere, it leaves My alerts.
    await api.admin.alerts.resolve.mutate({ alertId: a.id });
    await card.waitFor({ state: 'detached', timeout: 5_000 });
    await list(doctorEr).getByText('Nothing paged to you').waitFor();
  });

  it('declining moves the alert to the next level at once, and that level’s person gets it on their My alerts', async () => {
    const a = await raiseIcu('Chest drain blocked');
    const card = tile(doctorEr, 'Chest drain blocked');
    await card.waitFor({ timeout: 10_000 });
    await card.getByRole('button', { name: 'Decline' }).click();
    const dialog = doctorEr.getByRole('dialog');
    await dialog.getByRole('button', { name: 'In theatre or a procedure' }).click();
    await dialog.getByRole('button', { name: 'Decline alert' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Level 1 (the ER nurse, also outside ICU) is paged at once: no timeout of 300 s in between.
    await tile(nurseEr, 'Chest drain blocked').waitFor({ timeout: 5_000 });
    const nurseWhy = item(nurseEr, 'Chest drain blocked').locator('.mine-why');
    await nurseWhy.getByText('Level 1').waitFor();
    await nurseWhy.getByText('Paged: you, by name').waitFor();
    expect(await alertRow(a.id)).toMatchObject({ status: 'active', level: 1 });
    expect(await pageOf(a.id, id('doctor.er'))).toMatchObject({ level: 0, response: 'declined' });
    expect(await pageOf(a.id, id('nurse.er'))).toMatchObject({ level: 1, response: null });
    // The doctor keeps it, at the bottom and quiet, saying she declined; she can no longer decline it.
    await item(doctorEr, 'Chest drain blocked').getByText(/^You declined/).waitFor({ timeout: 5_000 });
    expect(await item(doctorEr, 'Chest drain blocked').getAttribute('class')).toMatch(/mine-declined/);
    expect(await card.getByRole('button', { name: 'Decline' }).count()).toBe(0);
    await doctorEr.getByText('0 waiting for you').waitFor();
    await nurseEr.getByText('1 waiting for you').waitFor();
    await screenshot(nurseEr, 'my-alerts-level-1');
  });

  it('with the chain removed, a new alert pages nobody and My alerts stays as it was', async () => {
    await chain(null);
    const a = await raiseIcu('Bed alarm');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await pageOf(a.id, id('doctor.er'))).toBeUndefined();
    expect(await tile(doctorEr, 'Bed alarm').count()).toBe(0);
    expect(await tile(nurseEr, 'Bed alarm').count()).toBe(0);
  });
});
