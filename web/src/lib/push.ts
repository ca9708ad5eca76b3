import { client } from './api.js';

/**
 * Push notifications on this device: the service worker (/sw.js), the browser's permission and its
 * push subscription, registered with the server as a `push` contact (notifications.registerPush).
 * Every browser call that can fail is turned into a PushSetupError with words a nurse can act on.
 */

export type PushSupport = 'supported' | 'insecure' | 'unsupported';

export function pushSupport(): PushSupport {
  if (typeof window === 'undefined' || !('Notification' in window)) return 'unsupported';
  // Service workers and push exist only on https:// (and localhost): a plain http address hides them.
  if (!window.isSecureContext) return 'insecure';
  return 'serviceWorker' in navigator && 'PushManager' in window ? 'supported' : 'unsupported';
}

export type PushProblem = 'dismissed' | 'blocked' | 'push-service' | 'worker';

export class PushSetupError extends Error {
  constructor(
    readonly problem: PushProblem,
    message: string,
    /** What to do about it, and what the browser said (for IT), shown after the message. */
    readonly advice = '',
  ) {
    super(message);
  }
}

/** The server's VAPID public key, or null when Web Push is not set up there (WEB_PUSH_* unset). */
export const fetchPushConfig = () => client.notifications.pushConfig.query();

/** The VAPID public key (base64url) as the bytes pushManager.subscribe wants. */
export function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const sameKey = (a: ArrayBuffer | null | undefined, b: Uint8Array) => !!a && a.byteLength === b.length && new Uint8Array(a).every((v, i) => v === b[i]);

export async function registerWorker(): Promise<ServiceWorkerRegistration> {
  try {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    return await navigator.serviceWorker.ready;
  } catch (err) {
    throw new PushSetupError('worker', "Clarion's notification helper could not start in this browser.", `Reload the page and try again. The browser said: ${(err as Error).message}`);
  }
}

/** This device's current subscription, if the worker is registered and has one. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (pushSupport() !== 'supported') return null;
  const reg = await navigator.serviceWorker.getRegistration('/');
  return (await reg?.pushManager.getSubscription()) ?? null;
}

/**
 * Asks for permission (call it straight from the button's click: browsers only prompt on a tap),
 * subscribes with the server's key and registers the subscription. Resolves with its endpoint.
 */
export async function enablePush(publicKey: string): Promise<string> {
  const permission = await Notification.requestPermission();
  if (permission === 'denied') throw new PushSetupError('blocked', 'Notifications are blocked for Clarion in this browser.');
  if (permission !== 'granted') throw new PushSetupError('dismissed', 'You closed the question without allowing notifications. Press the button again and choose Allow.');
  const reg = await registerWorker();
  const key = keyBytes(publicKey);
  let sub = await reg.pushManager.getSubscription();
  // A subscription made with an older server key can no longer be pushed to: replace it.
  if (sub && !sameKey(sub.options.applicationServerKey, key)) {
    await sub.unsubscribe();
    sub = null;
  }
  try {
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  } catch (err) {
    throw new PushSetupError(
      'push-service',
      'This browser could not sign up with its push service.',
      `Check that the device is online and try again. Some browsers and hospital networks cannot get push notifications at all: then add an SMS number or a phone call below. The browser said: ${(err as Error).message}`,
    );
  }
  const json = sub.toJSON() as { endpoint: string; expirationTime?: number | null; keys: { p256dh: string; auth: string } };
  await client.notifications.registerPush.mutate({ subscription: json });
  return json.endpoint;
}

/** Stops push on this device: the browser forgets the subscription (the caller removes the contact). */
export async function disablePush(): Promise<void> {
  await (await currentSubscription())?.unsubscribe();
}
