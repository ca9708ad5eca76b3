import type { Page } from 'playwright-core';

/**
 * Every screen of the web app, each with the account that opens it and what "loaded" looks like: the
 * accessibility scan (a11y.e2e) and the phone layout check (small-screens.e2e) walk the same list.
 */
export interface AppScreen {
  name: string;
  account?: 'admin' | 'operator' | 'head' | 'nurse.icu' | 'doctor.er';
  path: string;
  /** The ward board has its own phone checks (ward-board.e2e). */
  board?: boolean;
  ready: (p: Page) => Promise<unknown>;
}

export const appScreens: AppScreen[] = [
  { name: 'sign-in', path: '/', ready: (p) => p.getByRole('button', { name: 'Sign in' }).waitFor() },
  { name: 'console', account: 'operator', path: '/#/console', ready: (p) => p.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 }) },
  { name: 'console-history', account: 'operator', path: '/#/console/history', ready: (p) => p.getByRole('table', { name: 'Alert history' }).waitFor() },
  { name: 'ward-board', account: 'nurse.icu', path: '/#/board', board: true, ready: (p) => p.getByRole('article', { name: /Cardiac arrest/ }).waitFor({ timeout: 10_000 }) },
  { name: 'my-alerts', account: 'doctor.er', path: '/#/mine', ready: (p) => p.getByRole('heading', { name: 'My alerts', level: 1 }).waitFor() },
  { name: 'assignments', account: 'nurse.icu', path: '/#/assignments', ready: (p) => p.getByRole('button', { name: /^Room 301/ }).first().waitFor() },
  { name: 'on-call', account: 'head', path: '/#/oncall', ready: (p) => p.locator('.oncall-seg').first().waitFor() },
  { name: 'escalations', account: 'head', path: '/#/escalations', ready: (p) => p.getByRole('heading', { level: 1 }).first().waitFor() },
  { name: 'call-code', account: 'nurse.icu', path: '/#/code', ready: (p) => p.getByRole('heading', { name: 'Call a hospital code', level: 1 }).waitFor() },
  { name: 'suppressions', account: 'head', path: '/#/suppressions', ready: (p) => p.getByText(/^No windows|^Windows \(/).first().waitFor() },
  { name: 'admin-users', account: 'admin', path: '/#/admin/users', ready: (p) => p.getByRole('cell', { name: /Nia ICU Nurse/ }).first().waitFor() },
  { name: 'admin-departments', account: 'admin', path: '/#/admin/departments', ready: (p) => p.getByRole('cell', { name: /ICU/ }).first().waitFor() },
  { name: 'admin-settings', account: 'admin', path: '/#/admin/settings', ready: (p) => p.getByRole('button', { name: 'Save settings' }).waitFor() },
  { name: 'admin-reach', account: 'admin', path: '/#/admin/reach', ready: (p) => p.getByRole('table', { name: 'People reached on screens only' }).waitFor() },
  {
    name: 'admin-integrations',
    account: 'admin',
    path: '/#/admin/integrations',
    ready: async (p) => {
      await p.getByText('Loading keys…').waitFor({ state: 'detached' });
      await p.getByText('Loading webhooks…').waitFor({ state: 'detached' });
      await p.getByText('Loading HL7 sources…').waitFor({ state: 'detached' });
      await p.getByRole('button', { name: 'Create webhook' }).waitFor();
      await p.getByRole('button', { name: 'Add source' }).waitFor();
    },
  },
  { name: 'reach', account: 'nurse.icu', path: '/#/reach', ready: (p) => p.getByRole('button', { name: 'Save rules' }).waitFor() },
  { name: 'admin-audit', account: 'admin', path: '/#/admin/audit', ready: (p) => p.locator('tbody tr').first().waitFor() },
  { name: 'admin-exports', account: 'admin', path: '/#/admin/exports', ready: (p) => p.getByRole('button', { name: 'Request export' }).waitFor() },
  {
    name: 'admin-compliance',
    account: 'admin',
    path: '/#/admin/compliance',
    ready: async (p) => {
      await p.getByRole('button', { name: 'Generate report' }).click();
      await p.locator('figure svg.recharts-surface').first().waitFor({ timeout: 10_000 });
    },
  },
  {
    // The dev seed's alerts fall in the default period (the last 30 days): charts, heat map and table all drawn.
    name: 'admin-alarm-report',
    account: 'admin',
    path: '/#/admin/alarms',
    ready: async (p) => {
      await p.getByRole('button', { name: 'Generate report' }).click();
      await p.getByRole('heading', { name: 'Every department and shift' }).waitFor({ timeout: 10_000 });
      await p.locator('figure svg.recharts-surface').first().waitFor({ timeout: 10_000 });
    },
  },
];
