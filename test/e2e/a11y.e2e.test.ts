import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, describeViolations } from '../support/axe.js';
import { createWebTestEnv, launchBrowser, openScreen, RestartableServer } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 15, Accessibility: an axe-core scan of every screen, served as the app is (its CSP on), with
// no violations. Each screen is scanned when it has loaded its data, at a wall/desk size and a phone.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;

beforeAll(async () => {
  env = await createWebTestEnv();
  t = await seedTenants(env);
  server = new RestartableServer(env);
  await server.start();
  browser = await launchBrowser();
});

async function scan(page: Page, what: string) {
  const violations = await axeViolations(page);
  expect(violations, `${what}:\n${describeViolations(violations)}`).toEqual([]);
}

const screens: { name: string; account?: 'admin' | 'operator' | 'head' | 'nurse.icu'; path: string; ready: (p: Page) => Promise<unknown> }[] = [
  { name: 'sign-in', path: '/', ready: (p) => p.getByRole('button', { name: 'Sign in' }).waitFor() },
  { name: 'operator console', account: 'operator', path: '/#/console', ready: (p) => p.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 }) },
  { name: 'alert history', account: 'operator', path: '/#/console/history', ready: (p) => p.getByRole('table', { name: 'Alert history' }).waitFor() },
  { name: 'ward board', account: 'nurse.icu', path: '/#/board', ready: (p) => p.getByRole('article', { name: /Cardiac arrest/ }).waitFor({ timeout: 10_000 }) },
  { name: 'escalations', account: 'head', path: '/#/escalations', ready: (p) => p.getByRole('heading', { level: 1 }).first().waitFor() },
  { name: 'admin users', account: 'admin', path: '/#/admin/users', ready: (p) => p.getByRole('cell', { name: 'Nia ICU Nurse', exact: true }).waitFor() },
  { name: 'admin departments', account: 'admin', path: '/#/admin/departments', ready: (p) => p.getByRole('cell', { name: 'ICU', exact: true }).waitFor() },
  { name: 'admin settings', account: 'admin', path: '/#/admin/settings', ready: (p) => p.getByRole('button', { name: 'Save settings' }).waitFor() },
  { name: 'admin audit log', account: 'admin', path: '/#/admin/audit', ready: (p) => p.locator('tbody tr').first().waitFor() },
  { name: 'admin exports', account: 'admin', path: '/#/admin/exports', ready: (p) => p.getByRole('button', { name: 'Request export' }).waitFor() },
  {
    name: 'admin compliance report',
    account: 'admin',
    path: '/#/admin/compliance',
    ready: async (p) => {
      await p.getByRole('button', { name: 'Generate report' }).click();
      await p.locator('figure svg.recharts-surface').first().waitFor({ timeout: 10_000 });
    },
  },
];

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
