import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { generateVapidKeys, type PushPayload, pushPayloadSchema } from '../../server/notifications/providers/webpush.js';
import { axeViolations, describeViolations } from '../support/axe.js';
import { createWebTestEnv, launchBrowser, openScreen, RestartableServer, SCREENSHOT_DIR, screenshot, type WebApp } from '../support/browser.js';
import { denyNotifications, serviceWorkerOf, spyOnAnswers } from '../support/push-browser.js';
import { type PushReceiver, startPushReceiver } from '../support/push-receiver.js';
import { clientFor } from '../support/server.js';
import { seedTenants } from '../support/tenants.js';

// Web Push in Debian's Chromium, as far as a browser without a push service goes: the manifest, the
// service worker at scope /, the permission, the "This device" block's words when subscribing fails
// (headless Chromium has no push service: subscribe() rejects), and the worker's push and click
// handlers, fed real push events through the DevTools protocol. The whole chain runs once too: a page
// sent by the outbox to the test push service, decrypted there, delivered into the browser's worker,
// acknowledged from the notification through the real response link.
let app: WebApp;
let rx: PushReceiver;
const vapid = generateVapidKeys();

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  rx = await startPushReceiver();
  afterAll(() => rx.close());
  const caFile = join(tmpdir(), `clarion-push-ca-${process.pid}.pem`);
  writeFileSync(caFile, rx.certPem);
  afterAll(() => rmSync(caFile, { force: true }));
  // PUBLIC_URL is the server's own address, so response links are same-origin for the service worker.
  const port = await freePort();
  const env = await createWebTestEnv({
    WEB_PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
    WEB_PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
    WEB_PUSH_SUBJECT: 'mailto:it@general.test',
    WEB_PUSH_CA_FILE: caFile,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  const t = await seedTenants(env);
  const server = new RestartableServer(env);
  server.port = port;
  await server.start();
  app = { env, t, server, browser: await launchBrowser() };
});

async function openReach(opts: { width?: number; permission?: 'granted' | 'denied'; account?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const token = await app.t.token('general', opts.account ?? 'nurse.icu');
  const { context, page } = await openScreen(app.browser, app.server.url, { token, path: '/', width: opts.width ?? 390, height: 844 });
  if (opts.permission === 'granted') await context.grantPermissions(['notifications'], { origin: app.server.url });
  if (opts.permission === 'denied') await denyNotifications(page, app.server.url);
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
  it('shows a pushed page as a notification; a refused Decline turns to the response page; a tap opens the alert', async () => {
    const { context, page } = await openReach({ permission: 'granted', width: 1366 });
    await device(page).getByRole('button', { name: 'Allow notifications on this device' }).waitFor();
    await device(page).screenshot({ path: `${SCREENSHOT_DIR}/push-device-1366.png` });
    const sw = await serviceWorkerOf(context, page, app.server.url);
    const posted = await spyOnAnswers(context);
    const payload: PushPayload = pushPayloadSchema.parse({
      v: 1,
      title: 'CRITICAL · ICU · room 312',
      body: 'Tap to open, or answer here',
      tag: 'page-1',
      alertId: 'alert-1',
      pageId: 'page-1',
      url: '/#/my-alerts',
      respondUrl: `${app.server.url}/r/00000000-0000-7000-8000-000000000000.forged`,
      priority: 'critical',
    });
    await sw.push(payload);
    await expect.poll(sw.shown).toHaveLength(1);
    const [n] = await sw.shown();
    expect(n).toMatchObject({ title: payload.title, body: payload.body, tag: 'page-1', requireInteraction: true, actions: ['acknowledge', 'decline'] });
    expect(n!.data).toMatchObject({ url: '/#/my-alerts', respondUrl: payload.respondUrl });

    // The server refuses the forged link: the worker turns to opening the response page in a window of
    // its own (here refused for want of a real click), and the Clarion window keeps its view.
    await expect(sw.click(n!.data, 'decline')).rejects.toThrow('Not allowed to open a window');
    // First the device's receipt (refused too: the link is forged), then the answer.
    expect(posted).toEqual([
      { url: `${payload.respondUrl}/delivered`, body: null },
      { url: payload.respondUrl, body: { action: 'decline', reason: 'Declined from the notification' } },
    ]);
    expect(page.url()).toBe(`${app.server.url}/#/reach`);

    // A plain tap: the open Clarion window goes to the alert's path.
    await sw.click(n!.data, '');
    await expect.poll(() => page.url()).toBe(`${app.server.url}/#/my-alerts`);

    // Something this worker cannot read still shows (browsers require it), and says to open Clarion.
    await sw.push({ v: 2, hello: 'future' });
    await expect.poll(async () => (await sw.shown()).map((s) => s.title)).toContain('Clarion: new page');
  });

  it('the whole chain: the outbox pushes a page, the push service takes it, the worker shows it, Acknowledge answers it; a 410 later removes the device', async () => {
    const nurse = app.t.user('general', 'nurse.icu');
    const api = async (account: string) => clientFor({ url: app.server.url, wsUrl: `${app.server.url.replace('http:', 'ws:')}/trpc` }, await app.t.token('general', account));
    const [admin, operator, asNurse] = await Promise.all([api('admin'), api('operator'), api('nurse.icu')]);
    await admin.hospitals.updateSettings.mutate({ escalation: { high: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: nurse.id }]] } } });
    await asNurse.notifications.setRules.mutate({ rules: { critical: [], high: [{ channel: 'push', delaySeconds: 0 }], medium: [], low: [] } });
    // The subscription this browser would have made, had it a push service: the receiver's.
    const subscription = rx.createSubscription({ applicationServerKey: vapid.publicKey });
    await asNurse.notifications.registerPush.mutate({ subscription });

    const raise = async (room: string) => {
      const a = await operator.alerts.create.mutate({ title: 'Patient Jane Doe desaturating', priority: 'high', alertType: 'medical', departmentId: app.t.hospital.general.departments.ICU, roomNumber: room });
      await expect.poll(async () => (await app.env.deps.db.execute(sql`SELECT 1 FROM page_attempts WHERE alert_id = ${a.id}`)).rows.length).toBe(1);
      await sendDueAttempts(app.env.deps);
      return a;
    };
    const a = await raise('312');
    expect(rx.rejected).toEqual([]);
    const payload = pushPayloadSchema.parse(rx.received.at(-1)?.payload);
    expect(payload).toMatchObject({ alertId: a.id, priority: 'high', url: '/#/my-alerts' });
    expect(JSON.stringify(payload)).not.toContain('Jane');
    expect(payload.respondUrl).toMatch(new RegExp(`^${app.server.url}/r/`));

    const { context, page } = await openReach({ permission: 'granted' });
    const sw = await serviceWorkerOf(context, page, app.server.url);
    const posted = await spyOnAnswers(context);
    await sw.push(payload);
    await expect.poll(async () => (await sw.shown()).map((s) => s.tag)).toContain(payload.tag);
    const n = (await sw.shown()).find((s) => s.tag === payload.tag)!;
    expect(n.actions).toEqual(['acknowledge', 'decline']);
    // Showing it sent the device's receipt: the attempt is delivered before anyone answers.
    await expect.poll(() => posted.map((p) => p.url)).toEqual([`${payload.respondUrl}/delivered`]);
    await expect
      .poll(async () => (await app.env.deps.db.execute<{ status: string }>(sql`SELECT status::text FROM page_attempts WHERE alert_id = ${a.id}`)).rows[0]?.status)
      .toBe('delivered');
    posted.length = 0;
    await sw.click(n.data, 'acknowledge');
    expect(posted).toEqual([{ url: payload.respondUrl, body: { action: 'acknowledge' } }]);
    const status = async (id: string) => (await app.env.deps.db.execute<{ status: string }>(sql`SELECT status::text FROM alerts WHERE id = ${id}`)).rows[0]?.status;
    expect(await status(a.id)).toBe('acknowledged');
    expect((await sw.shown()).find((s) => s.tag === payload.tag)?.title).toBe('Acknowledged');

    // The browser dropped the subscription: the push service answers 410 and the device is forgotten.
    rx.expire(subscription.endpoint);
    await raise('313');
    expect(await pushContacts('nurse.icu')).toEqual([]);
  });
});
