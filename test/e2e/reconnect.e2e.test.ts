import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openScreen, type RestartableServer, screenshot, startWebApp } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import { clientFor, startTestServer } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';

let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;
let board: Page;

const tile = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(title) });
const banner = (page: Page) => page.getByRole('alert').filter({ hasText: 'Connection lost' });

beforeAll(async () => {
  ({ env, t, server, browser } = await startWebApp());
  board = (await openScreen(browser, server.url, { token: await t.token('general', 'nurse.icu') })).page;
  await board.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
  await tile(board, 'Cardiac arrest').waitFor();
});

describe('a stale board says so, and catches up when the link returns', () => {
  it('shows "Connection lost — showing alerts as of HH:MM:SS" and dims the tiles when the server stops', async () => {
    const stoppedAt = Date.now();
    await server.stop();
    await banner(board).waitFor({ timeout: 10_000 });
    // Not before the grace period: a blip of a second does not alarm the ward.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(2_500);
    expect((await banner(board).textContent()) ?? '').toMatch(/Connection lost — showing alerts as of \d\d:\d\d:\d\d/);
    await board.getByRole('status', { name: 'Connection: Offline' }).waitFor();
    const opacity = await board.getByRole('region', { name: 'Open alerts' }).evaluate((el) => getComputedStyle(el).opacity);
    expect(Number(opacity)).toBeLessThan(1);
    // The alerts it had stay visible (dimmed): a stale board still shows what it knew.
    await tile(board, 'Cardiac arrest').waitFor();
    await screenshot(board, 'ward-board-stale');
  });

  it('restarting the server on the same port clears the banner and shows the alert raised meanwhile', async () => {
    // Another instance (the hospital runs several) takes the alert while this screen's server is down.
    const other = await startTestServer(env, { separate: true });
    const operator = clientFor(other, await t.token('general', 'operator'));
    await operator.alerts.create.mutate({
      title: 'Raised while offline',
      priority: 'critical',
      alertType: 'medical',
      departmentId: t.hospital.general.departments.ICU,
      roomNumber: '330',
    });
    await board.waitForTimeout(500);
    expect(await tile(board, 'Raised while offline').count()).toBe(0);

    await server.start();
    await tile(board, 'Raised while offline').waitFor({ timeout: 10_000 });
    await banner(board).waitFor({ state: 'detached', timeout: 5_000 });
    await board.getByRole('status', { name: 'Connection: Live' }).waitFor();
    const opacity = await board.getByRole('region', { name: 'Open alerts' }).evaluate((el) => getComputedStyle(el).opacity);
    expect(Number(opacity)).toBe(1);
    await other.close();
  });

  it('an expired or revoked session returns the board to sign-in with a message', async () => {
    const { page } = await openScreen(browser, server.url, { token: await t.token('general', 'doctor.icu') });
    await page.getByRole('heading', { name: 'Intensive Care board' }).waitFor();
    await page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
    // Deactivating the user revokes their sessions and closes their sockets on every instance.
    const admin = clientFor({ url: server.url, wsUrl: `ws://127.0.0.1:${server.port}/trpc` }, await t.token('general', 'admin'));
    await admin.users.deactivate.mutate({ id: t.user('general', 'doctor.icu').id });
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 10_000 });
    await page.getByText('Your session has ended. Please sign in again.').waitFor();
  });
});
