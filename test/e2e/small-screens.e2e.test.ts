import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openScreen, type RestartableServer, startWebApp } from '../support/browser.js';
import { appScreens } from '../support/screens.js';
import type { Tenants } from '../support/tenants.js';

// Issue 15, "Phones and small screens": the console, history, escalations, sign-in and every admin
// section at 390×844 (WCAG 1.4.10 reflow): nothing wider than the screen, Sign out on screen, the
// admin sections as a row instead of a fixed sidebar, and controls at least 44 px tall.
// Screenshots of each screen at 1920×1080, 1366×900 and 390×844 go to SHOTS_DIR (not the repo).
const SHOTS = process.env.SHOTS_DIR ?? '/tmp/shots2';
let t: Tenants;
let server: RestartableServer;
let browser: Browser;

beforeAll(async () => {
  ({ t, server, browser } = await startWebApp());
  mkdirSync(SHOTS, { recursive: true });
});

const screens = appScreens.filter((s) => !s.board);

/** Visible controls shorter than 44 px (label, height), skipping controls inside a scrolled table. */
const smallTargets = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, a[href], input:not([type=checkbox]):not([type=radio]), select, summary')]
      .filter((el) => el.offsetParent !== null && !el.closest('.sr-only'))
      .map((el) => ({ label: (el.getAttribute('aria-label') ?? el.textContent ?? el.tagName).trim().slice(0, 40), h: el.getBoundingClientRect().height }))
      .filter((x) => x.h < 43.5),
  );

describe('every console and admin screen at 390×844', () => {
  it('the app has a favicon (issue 15 point 13)', async () => {
    const { context, page } = await openScreen(browser, server.url, { width: 390, height: 844 });
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const res = await page.request.get(href!);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/svg/);
    await context.close();
  });

  for (const s of screens) {
    it(`${s.name}: no horizontal scroll, Sign out reachable, 44 px targets`, async () => {
      const token = s.account ? await t.token('general', s.account) : undefined;
      const { context, page } = await openScreen(browser, server.url, { token, path: s.path, width: 390, height: 844 });
      await s.ready(page);
      await page.screenshot({ path: `${SHOTS}/${s.name}-390.png`, fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      if (token) {
        const box = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
        expect(box).not.toBeNull();
        expect(box!.x + box!.width).toBeLessThanOrEqual(390);
        expect(box!.y).toBeLessThan(844);
      }
      if (s.name.startsWith('admin')) {
        // The sections are a row above the content, not a 200 px sidebar beside it.
        const nav = await page.getByRole('navigation', { name: 'Admin sections' }).boundingBox();
        const body = await page.locator('.admin-body').boundingBox();
        expect(body!.y).toBeGreaterThanOrEqual(nav!.y + nav!.height - 1);
        expect(body!.width).toBeGreaterThan(360);
      }
      expect(await smallTargets(page)).toEqual([]);
      await context.close();
    });
  }

  it('screenshots at 1920×1080 and 1366×900 of the same screens (for looking at)', async () => {
    for (const size of [
      { width: 1920, height: 1080 },
      { width: 1366, height: 900 },
    ]) {
      for (const s of screens) {
        const token = s.account ? await t.token('general', s.account) : undefined;
        const { context, page } = await openScreen(browser, server.url, { token, path: s.path, ...size });
        await s.ready(page);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
        await page.screenshot({ path: `${SHOTS}/${s.name}-${size.width}.png` });
        await context.close();
      }
    }
  }, 180_000);
});
