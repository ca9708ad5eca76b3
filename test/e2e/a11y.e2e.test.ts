import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, type RestartableServer, startWebApp } from '../support/browser.js';
import { appScreens } from '../support/screens.js';
import type { Tenants } from '../support/tenants.js';

// Issue 15, Accessibility: an axe-core scan of every screen, served as the app is (its CSP on), with
// no violations. Each screen is scanned when it has loaded its data, at a wall/desk size and a phone.
let t: Tenants;
let server: RestartableServer;
let browser: Browser;

beforeAll(async () => {
  ({ t, server, browser } = await startWebApp());
});

async function scan(page: Page, what: string) {
  const violations = await axeViolations(page);
  expect(violations, `${what}:\n${describeViolations(violations)}`).toEqual([]);
}

const screens = appScreens;

describe('axe-core: no violations on any screen', () => {
  for (const size of [
    { width: 1366, height: 900 },
    { width: 390, height: 844 },
  ]) {
    for (const s of screens) {
      it(`${s.name} at ${size.width}×${size.height}`, async () => {
        const token = s.account ? await t.token('general', s.account) : undefined;
        const { context, page } = await openScreen(browser, server.url, { token, path: s.path, ...size });
        try {
          await s.ready(page);
          await scan(page, `${s.name} at ${size.width}px`);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('the audit row detail and an alert timeline dialog pass too', async () => {
    const { context, page } = await openScreen(browser, server.url, { token: await t.token('general', 'admin'), path: '/#/admin/audit' });
    await page.getByRole('button', { name: /^Detail of/ }).first().click();
    await page.getByRole('heading', { name: 'Metadata' }).waitFor();
    await scan(page, 'audit row detail');
    await page.goto('/#/console/history');
    await page.getByRole('button', { name: /^Details of/ }).first().click();
    await page.getByRole('list', { name: 'Timeline' }).waitFor();
    await scan(page, 'alert details dialog');
    await context.close();
  });
});
