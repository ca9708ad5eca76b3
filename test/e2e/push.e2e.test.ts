import { sql } from 'drizzle-orm';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys, type PushPayload, pushPayloadSchema } from '../../server/notifications/providers/webpush.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { openScreen, SCREENSHOT_DIR, screenshot, startWebApp, type WebApp } from '../support/browser.js';

// Web Push in Debian's Chromium, as far as a browser without a push service goes: the manifest, the
// service worker at scope /, the permission, the "This device" block's words when subscribing fails
// (headless Chromium has no push service: subscribe() rejects), and the worker's push and click
// handlers, fed a real push event through the DevTools protocol.
let app: WebApp;
const vapid = generateVapidKeys();

beforeAll(async () => {
  app = await startWebApp({ WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey, WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey, WEB_PUSH_SUBJECT: 'mailto:it@general.test' });
});

/**
 * Bridge until notifications.pushConfig is on the router: when the server answers NOT_FOUND for it,
 * the browser gets `{ publicKey }` instead. Once the procedure exists its real answer passes through
 * untouched (this file sets WEB_PUSH_* to the same key), and this function can go.
 */
async function bridgePushConfig(context: BrowserContext, publicKey: string | null) {
  await context.route(/\/trpc\/[^?]*notifications\.pushConfig/, async (route) => {
    const res = await route.fetch();
    const paths = decodeURIComponent(new URL(route.request().url()).pathname.slice('/trpc/'.length)).split(',');
    type Answer = { error?: { data?: { code?: string } }; result?: unknown };
    const answers = (await res.json()) as Answer[];
    const patched = answers.map((a, i): Answer => (paths[i] === 'notifications.pushConfig' && a.error?.data?.code === 'NOT_FOUND' ? { result: { data: { publicKey } } } : a));
    await route.fulfill({ response: res, status: patched.some((a) => a.error) ? res.status() : 200, json: patched });
  });
}

/** Notifications blocked for the app's origin, as after "Block" in the prompt (Playwright can only grant). */
async function denyNotifications(page: Page) {
  const { targetInfo } = (await (await page.context().newCDPSession(page)).send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } };
  const browserSession = await app.browser.newBrowserCDPSession();
  await browserSession.send('Browser.setPermission', { permission: { name: 'notifications' }, setting: 'denied', origin: app.server.url, browserContextId: targetInfo.browserContextId });
}

async function openReach(opts: { width?: number; permission?: 'granted' | 'denied'; account?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const token = await app.t.token('general', opts.account ?? 'nurse.icu');
  const { context, page } = await openScreen(app.browser, app.server.url, { token, path: '/', width: opts.width ?? 390, height: 844 });
  if (opts.permission === 'granted') await context.grantPermissions(['notifications'], { origin: app.server.url });
  if (opts.permission === 'denied') await denyNotifications(page);
  await bridgePushConfig(context, vapid.publicKey);
  await page.goto('/#/reach');
  // A document reads its notification permission when it loads.
  if (opts.permission === 'denied') await page.reload();
  await page.getByRole('heading', { name: 'This device' }).waitFor();
  return { context, page };
}

const device = (page: Page) => page.locator('.reach-device');
const pushContacts = async (account: string) =>
  (await app.env.deps.db.execute(sql`SELECT id FROM contacts WHERE user_id = ${app.t.user('general', account).id} AND channel = 'push'`)).rows;
const swRegistration = (page: Page) =>
  page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sw = reg?.active ?? reg?.waiting ?? reg?.installing;
    if (sw && sw.state !== 'activated') await new Promise((r) => sw.addEventListener('statechange', () => sw.state === 'activated' && r(null)));
    return reg ? { scope: reg.scope, state: reg.active?.state, script: reg.active?.scriptURL } : null;
  });

describe('installable app', () => {
  it('links a manifest that parses, with icons that load, and serves /sw.js as revalidated JavaScript', async () => {
    const { page } = await openScreen(app.browser, app.server.url);
    expect(await page.locator('link[rel="manifest"]').getAttribute('href')).toBe('/manifest.webmanifest');
    const res = await page.request.get('/manifest.webmanifest');
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^application\/manifest\+json/);
    const manifest = await res.json();
    expect(manifest).toMatchObject({ name: 'Clarion', short_name: 'Clarion', start_url: '/', scope: '/', display: 'standalone', theme_color: '#0b1a33' });
    // Chromium's own manifest parser: no errors, and it found the icons.
    const cdp = await page.context().newCDPSession(page);
    const parsed = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; data: string };
    expect(parsed.errors).toEqual([]);
    expect(JSON.parse(parsed.data).icons).toHaveLength(4);
    for (const icon of manifest.icons as { src: string; sizes: string; type: string }[]) {
      const img = await page.request.get(icon.src);
      expect(img.status(), icon.src).toBe(200);
      expect(img.headers()['content-type']).toContain(icon.type);
      if (icon.type === 'image/png') {
        const png = await img.body();
        expect(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`).toBe(icon.sizes);
      }
    }
    const sw = await page.request.get('/sw.js');
    expect(sw.headers()['content-type']).toMatch(/javascript/);
    expect(sw.headers()['cache-control']).toBe('no-cache');
  });
});

describe('this device', () => {
  it('registers the worker at scope / and says in words that subscribing failed (no push service here); nothing is stored', async () => {
    const { page } = await openReach({ permission: 'granted' });
    const allow = page.getByRole('button', { name: 'Allow notifications on this device' });
    await allow.click();
    const alert = device(page).getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^This browser could not sign up with its push service\. Check that the device is online and try again\. .* The browser said: \w+/);
    expect(await swRegistration(page)).toEqual({ scope: `${app.server.url}/`, state: 'activated', script: `${app.server.url}/sw.js` });
    expect(await page.evaluate(() => Notification.permission)).toBe('granted');
    expect(await pushContacts('nurse.icu')).toEqual([]);
    expect(await allow.isEnabled()).toBe(true);
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await device(page).screenshot({ path: `${SCREENSHOT_DIR}/push-device-390.png` });
    await screenshot(page, 'push-reach-390', { fullPage: true });
  });

  it('a blocked permission says how to unblock; a browser without push says what to use instead (1366 px)', async () => {
    const { page } = await openReach({ width: 1366, permission: 'denied' });
    await device(page).getByText('Notifications are blocked for Clarion in this browser.').waitFor();
    await device(page).getByText('set Notifications to Allow').waitFor();
    expect(await device(page).getByRole('button').count()).toBe(0);
    await screenshot(page, 'push-reach-1366-blocked');

    const { context, page: old } = await openScreen(app.browser, app.server.url, { token: await app.t.token('general', 'doctor.icu') });
    await context.addInitScript(() => {
      delete (window as { PushManager?: unknown }).PushManager;
    });
    await old.goto('/#/reach');
    await old.reload();
    await device(old).getByText(/^This browser cannot get push notifications\. On an iPhone or iPad/).waitFor();
  });
});

describe('the service worker', () => {
  it('shows a pushed page as a notification; Acknowledge posts to the response link; a refused Decline turns to the response page; a tap opens the alert', async () => {
    const { context, page } = await openReach({ permission: 'granted', width: 1366 });
    await device(page).getByRole('button', { name: 'Allow notifications on this device' }).waitFor();
    await device(page).screenshot({ path: `${SCREENSHOT_DIR}/push-device-1366.png` });
    await page.evaluate(() => navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(() => navigator.serviceWorker.ready));
    const payload: PushPayload = pushPayloadSchema.parse({
      v: 1,
      title: 'CRITICAL · ICU · room 312',
      body: 'Tap to open, or answer here',
      tag: 'page-1',
      alertId: 'alert-1',
      pageId: 'page-1',
      url: '/#/my-alerts',
      respondUrl: `${app.server.url}/r/tok-1`,
      priority: 'critical',
    });
    // A real push event, as the push service would deliver it (minus the encryption, which the browser strips).
    const cdp = await context.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    await expect.poll(() => registrations.find((r) => r.scopeURL === `${app.server.url}/`)).toBeTruthy();
    const { registrationId } = registrations.find((r) => r.scopeURL === `${app.server.url}/`)!;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: app.server.url, registrationId, data: JSON.stringify(payload) });
    const shown = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction, actions: (n as unknown as { actions: { action: string }[] }).actions.map((a) => a.action), data: n.data })),
      );
    await expect.poll(shown).toHaveLength(1);
    const [n] = await shown();
    expect(n).toMatchObject({ title: payload.title, body: payload.body, tag: 'page-1', requireInteraction: true, actions: ['acknowledge', 'decline'] });
    expect(n!.data).toMatchObject({ url: '/#/my-alerts', respondUrl: payload.respondUrl });

    // /r/<token> is being built: the test answers for it, first taking the answer, then as an expired link.
    const posted: { url: string; body: unknown }[] = [];
    let linkStatus = 204;
    await context.route('**/r/**', (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      posted.push({ url: route.request().url(), body: route.request().postDataJSON() });
      return route.fulfill({ status: linkStatus });
    });
    const worker = context.serviceWorkers().find((w) => w.url() === `${app.server.url}/sw.js`)!;
    const click = (action: string) => worker.evaluate(([data, a]) => (self as unknown as { clarion: { handleClick(d: unknown, a: string): Promise<void> } }).clarion.handleClick(data, a), [n!.data, action] as const);
    await click('acknowledge');
    expect(posted).toEqual([{ url: payload.respondUrl, body: { action: 'acknowledge' } }]);
    expect((await shown()).map((s) => [s.title, s.tag, s.actions.length])).toEqual([['Acknowledged', 'page-1', 0]]);

    // The link refused (expired, answered already): the worker opens the response page in a window of
    // its own. Browsers allow that only while a real notification click is handled, which no protocol
    // can fake, so here the attempt itself is what shows, and the Clarion window keeps its view.
    linkStatus = 410;
    await expect(click('decline')).rejects.toThrow('Not allowed to open a window');
    expect(posted[1]).toEqual({ url: payload.respondUrl, body: { action: 'decline', reason: 'Declined from the notification' } });
    expect(page.url()).toBe(`${app.server.url}/#/reach`);

    // A plain tap: the open Clarion window comes forward on the alert's path.
    await click('');
    await expect.poll(() => page.url()).toBe(`${app.server.url}/#/my-alerts`);
  });
});
