/*
 * Clarion's service worker (served at /sw.js, scope /). It only does push: no caching, no offline
 * copies (pages carry clinical data and must always be fresh). It shows each pushed page as a
 * notification and answers it from the notification's buttons.
 *
 * The message is the PushPayload of server/notifications/providers/webpush.ts (pushPayloadSchema,
 * v 1): { v, title, body, tag, alertId, pageId, url, respondUrl, priority }. Change both together.
 *
 * Acknowledge and Decline POST { action, reason? } to the page's response link (respondUrl, /r/<token>)
 * at once: a nurse answering from the lock screen must not have to unlock, sign in and find the alert.
 * Decline sends a fixed reason rather than opening a form: the point of declining from the lock screen
 * is that the next person is paged now; a reason can still be given in the app. When the POST fails
 * (no network, the link expired, the page was answered already) the response page opens instead, so
 * the person sees where things stand and can act there.
 */

const ANSWERS = { acknowledge: 'Acknowledged', decline: 'Declined' };
const DECLINE_REASON = 'Declined from the notification';
const RESPOND_TIMEOUT_MS = 10000;

// A new version takes over at once: there are no caches to migrate.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** The payload if it is one this worker understands, else null (an older or newer sender). */
function parsePayload(data) {
  let p = null;
  try {
    p = data ? data.json() : null;
  } catch {
    return null;
  }
  const strings = ['title', 'body', 'tag', 'alertId', 'pageId', 'url', 'priority'];
  if (p?.v !== 1 || !strings.every((k) => typeof p[k] === 'string')) return null;
  if (p.respondUrl !== null && typeof p.respondUrl !== 'string') return null;
  return p;
}

/** [title, options] for showNotification: repeats of a page replace its notification (tag) and ring again. */
function notificationFor(p) {
  if (!p) {
    // The browser requires a visible notification for every push; an unreadable one still says "look".
    return ['Clarion: new page', { body: 'Open Clarion to see it', tag: 'clarion-unreadable', renotify: true, requireInteraction: true, data: { url: '/#/my-alerts', respondUrl: null } }];
  }
  const options = {
    body: p.body,
    tag: p.tag,
    renotify: true,
    // Critical and high stay on screen until the person acts; medium and low may time out.
    requireInteraction: p.priority === 'critical' || p.priority === 'high',
    icon: '/icons/icon-192.png',
    badge: '/icons/badge-96.png',
    timestamp: Date.now(),
    data: { url: p.url, respondUrl: p.respondUrl, alertId: p.alertId, pageId: p.pageId, tag: p.tag, title: p.title },
    actions: p.respondUrl
      ? [
          { action: 'acknowledge', title: 'Acknowledge' },
          { action: 'decline', title: 'Decline' },
        ]
      : [],
  };
  return [p.title, options];
}

async function showPush(data) {
  const payload = parsePayload(data);
  const [title, options] = notificationFor(payload);
  await self.registration.showNotification(title, options);
  // Tell Clarion the phone has it (the timeline's "push delivered 00:14"); best effort, never blocks.
  if (payload?.respondUrl) {
    await fetch(`${payload.respondUrl}/delivered`, { method: 'POST', credentials: 'omit', signal: AbortSignal.timeout(RESPOND_TIMEOUT_MS) }).catch(() => undefined);
  }
}

/** POSTs the answer to the response link; true when the server took it. */
async function respond(respondUrl, action) {
  try {
    const body = action === 'decline' ? { action, reason: DECLINE_REASON } : { action };
    const res = await fetch(respondUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      // The link's token is the credential: no cookies.
      credentials: 'omit',
      signal: AbortSignal.timeout(RESPOND_TIMEOUT_MS),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Focuses an open Clarion window on the app path `url`, or opens one. */
async function openApp(url) {
  const target = new URL(url, self.location.origin);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const win = windows.find((w) => new URL(w.url).origin === target.origin);
  if (!win) return self.clients.openWindow(target.href);
  // Browsers allow focus() only while handling the click; the window is still navigated without it.
  const focused = await win.focus().catch(() => win);
  // navigate() needs a window this worker controls; one opened before it took over keeps its view.
  if (focused.url !== target.href) await focused.navigate(target.href).catch(() => undefined);
}

/** A tap (no action) opens the alert in the app; a button answers it. Exposed on self for the e2e test. */
async function handleClick(data, action) {
  const d = data || {};
  if ((action === 'acknowledge' || action === 'decline') && d.respondUrl) {
    // In a window of its own: the response page must not replace a ward board that is open.
    if (!(await respond(d.respondUrl, action))) return self.clients.openWindow(d.respondUrl);
    // The answer replaces the page's notification, quietly, so the person sees it was taken.
    await self.registration.showNotification(ANSWERS[action], { body: d.title || '', tag: d.tag, silent: true, data: { url: d.url || '/', respondUrl: null } });
    return;
  }
  return openApp(d.url || '/');
}
self.clarion = { parsePayload, notificationFor, handleClick };

self.addEventListener('push', (event) => event.waitUntil(showPush(event.data)));

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(handleClick(event.notification.data, event.action));
});
