import { sql } from 'drizzle-orm';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EscalationTarget } from '../../server/hospitals/settings.js';
import { openScreen, screenshot, startWebApp, type WebApp } from '../support/browser.js';

// Issue 16 ("people"): the admin says who each escalation level pages, in the settings panel; the
// server's refusal of a reference (a person deactivated meanwhile) shows in words on that target.
let app: WebApp;
let admin: Page;
let scheduleId: string;
let floatId: string;

const high = () => admin.getByRole('group', { name: 'High: who is paged' });
const pageNobody = () => high().getByRole('checkbox', { name: 'Page nobody (screens only)' });
const field = (label: string) => admin.getByLabel(label, { exact: true });
const save = async () => {
  await admin.getByRole('button', { name: 'Save settings' }).click();
};
const saved = () => admin.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();

async function highPolicy(): Promise<{ levelTimeoutsSeconds: number[]; targets?: EscalationTarget[][] }> {
  const { rows } = await app.env.deps.db.execute<{ p: { levelTimeoutsSeconds: number[]; targets?: EscalationTarget[][] } }>(
    sql`SELECT settings->'escalation'->'high' AS p FROM hospitals WHERE id = ${app.t.hospital.general.id}`,
  );
  return rows[0]!.p;
}

const describedBy = async (control: Locator) => {
  const ids = (await control.getAttribute('aria-describedby')) ?? '';
  return ids ? admin.locator(ids.split(' ').map((i) => `[id="${i}"]`).join(', ')).textContent() : '';
};

beforeAll(async () => {
  app = await startWebApp();
  const db = app.env.deps.db;
  scheduleId = (await db.execute<{ id: string }>(sql`SELECT id FROM schedules WHERE hospital_id = ${app.t.hospital.general.id} AND name = 'Senior doctor on call'`)).rows[0]!.id;
  // A float nurse who is deactivated while the admin's form still offers her.
  floatId = (
    await db.execute<{ id: string }>(
      sql`INSERT INTO users (hospital_id, department_id, email, name, role) VALUES (${app.t.hospital.general.id}, ${app.t.hospital.general.departments.ICU}, 'fay.float@general.test', 'Fay Float', 'nurse') RETURNING id`,
    )
  ).rows[0]!.id;
  admin = (await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'admin'), path: '/#/admin/settings', width: 1366, height: 900 })).page;
  await admin.getByRole('button', { name: 'Save settings' }).waitFor();
});

describe('escalation targets in the settings panel', () => {
  it('starts at "Page nobody" (the seed configures no chain for tests)', async () => {
    expect(await pageNobody().isChecked()).toBe(true);
    expect(await high().getByRole('group').count()).toBe(0);
    expect((await highPolicy()).targets).toBeUndefined();
  });

  it('shows the server’s refusal of a person deactivated after the form loaded, in words, on that target', async () => {
    // One level for High (0 → 1 only), so the chain is levels 0 and 1.
    const levels = admin.getByRole('group', { name: 'High', exact: true });
    await levels.getByRole('button', { name: 'Remove level' }).click();
    await levels.getByRole('button', { name: 'Remove level' }).click();
    expect(await field('High level 0 → 1 (seconds)').count()).toBe(1);
    expect(await field('High level 1 → 2 (seconds)').count()).toBe(0);
    await pageNobody().uncheck();
    // Unchecked, each level starts at what it would fall back to.
    expect(await field('High level 0 target 1').inputValue()).toBe('department');
    expect(await field('High level 1 target 1').inputValue()).toBe('role');
    expect(await field('High level 2 target 1').count()).toBe(0);

    await field('High level 0 target 1').selectOption({ label: 'Nurse assigned to the room' });
    await high().getByRole('button', { name: 'Add target to level 0' }).click();
    await field('High level 0 target 2').selectOption({ label: 'A named person' });
    await field('High level 0 target 2: person').selectOption(floatId);
    await field('High level 1 target 1').selectOption({ label: 'Whoever is on call (schedule)' });
    await field('High level 1 target 1: schedule').selectOption({ label: 'Senior doctor on call' });

    await app.env.deps.db.execute(sql`UPDATE users SET is_active = false WHERE id = ${floatId}`);
    await save();
    const person = field('High level 0 target 2: person');
    await admin.getByText('1 field needs a correction.').waitFor();
    expect(await person.getAttribute('aria-invalid')).toBe('true');
    expect(await describedBy(person)).toMatch(/not an active user of this hospital: choose someone else/);
    expect(await field('High level 0 target 1').getAttribute('aria-invalid')).toBe('false');
    expect(await field('High level 1 target 1: schedule').getAttribute('aria-invalid')).toBe('false');
    expect(await admin.locator('main').textContent()).not.toMatch(/Too big|Too small|expected (string|number)|Invalid input|escalation\.high/);
    await screenshot(admin, 'settings-targets-error');
    expect((await highPolicy()).targets).toBeUndefined(); // nothing written
  });

  it('saves exactly the chain shown: level 0 assigned + a named person, level 1 the on-call schedule', async () => {
    const doctorEr = app.t.user('general', 'doctor.er').id;
    await field('High level 0 target 2: person').selectOption(doctorEr);
    // Any change clears the server's error.
    expect(await field('High level 0 target 2: person').getAttribute('aria-invalid')).toBe('false');
    await save();
    await saved();
    expect(await highPolicy()).toEqual({
      levelTimeoutsSeconds: [180],
      targets: [[{ kind: 'assigned' }, { kind: 'user', userId: doctorEr }], [{ kind: 'schedule', scheduleId }]],
    });
    // Reloaded, the form shows what was saved.
    await admin.reload();
    await field('High level 0 target 2: person').waitFor();
    expect(await pageNobody().isChecked()).toBe(false);
    expect(await field('High level 0 target 1').inputValue()).toBe('assigned');
    expect(await field('High level 0 target 2: person').inputValue()).toBe(doctorEr);
    expect(await field('High level 1 target 1: schedule').inputValue()).toBe(scheduleId);
    // The whole "Who is paged" card from its heading: the time zone, Critical still screens only, High's chain.
    await admin.getByRole('group', { name: 'Who is paged', exact: true }).evaluate((el) => {
      el.scrollIntoView({ block: 'start' });
      window.scrollBy(0, -16);
    });
    await screenshot(admin, 'settings-targets', { docs: true });
  });

  it('re-checking "Page nobody" and saving removes the chain (back to screens only)', async () => {
    await pageNobody().check();
    expect(await field('High level 0 target 1').count()).toBe(0);
    await save();
    await saved();
    expect(await highPolicy()).toEqual({ levelTimeoutsSeconds: [180] });
  });
});
