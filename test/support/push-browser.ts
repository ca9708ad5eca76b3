import type { BrowserContext, Page, Worker } from 'playwright-core';
import { expect } from 'vitest';

// Driving a page's service worker and notification permission from a Playwright test, through the
// DevTools protocol where Playwright has no API (Chromium only).

/** Notifications blocked for the app's origin, as after "Block" in the prompt (Playwright can only grant). */
export async function denyNotifications(page: Page, origin: string) {
  const { targetInfo } = (await (await page.context().newCDPSession(page)).send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } };
  const browser = page.context().browser();
  if (!browser) throw new Error('the page has no browser');
  const browserSession = await browser.newBrowserCDPSession();
  await browserSession.send('Browser.setPermission', { permission: { name: 'notifications' }, setting: 'denied', origin, browserContextId: targetInfo.browserContextId });
}

export interface Shown {
  title: string;
  body: string;
  tag: string;
  requireInteraction: boolean;
  actions: string[];
  data: { url: string; respondUrl: string | null };
}

/**
 * The page's service worker, driven from outside: `push` delivers a real push event (what the
 * browser hands the worker after decrypting), `shown` lists its notifications, `click` runs its
 * notificationclick handler (no protocol can click a notification, so the handler is called as the
 * event would call it; focus() and openWindow() then lack the click's permission).
 */
export async function serviceWorkerOf(context: BrowserContext, page: Page, origin: string) {
  await page.evaluate(() => navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(() => navigator.serviceWorker.ready));
  const cdp = await context.newCDPSession(page);
  const registrations: { registrationId: string; scopeURL: string }[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  const mine = () => registrations.find((r) => r.scopeURL === `${origin}/`);
  await expect.poll(mine).toBeTruthy();
  const worker: Worker = context.serviceWorkers().find((w) => w.url() === `${origin}/sw.js`) ?? (await context.waitForEvent('serviceworker'));
  return {
    push: (payload: unknown) => cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: mine()!.registrationId, data: JSON.stringify(payload) }),
    shown: (): Promise<Shown[]> =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          requireInteraction: n.requireInteraction,
          actions: (n as unknown as { actions: { action: string }[] }).actions.map((a) => a.action),
          data: n.data,
        })),
      ),
    click: (data: Shown['data'], action: string) =>
      worker.evaluate(([d, a]) => (self as unknown as { clarion: { handleClick(d: unknown, a: string): Promise<void> } }).clarion.handleClick(d, a), [data, action] as const),
  };
}

/** What the service worker POSTs to response links, recorded on the way to the real server. */
export async function spyOnAnswers(context: BrowserContext) {
  const posted: { url: string; body: unknown }[] = [];
  await context.route('**/r/**', (route) => {
    if (route.request().method() === 'POST') posted.push({ url: route.request().url(), body: route.request().postDataJSON() });
    return route.continue();
  });
  return posted;
}
