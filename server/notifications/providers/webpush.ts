import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import webpush from 'web-push';
import { z } from 'zod';
import { priorities } from '../../db/enums.js';

/**
 * Web Push (RFC 8030 delivery, RFC 8291 payload encryption, RFC 8292 VAPID) through `web-push`, the
 * standard sender. Pure functions: no database, no Redis, no globals (web-push's setVapidDetails is
 * never called), so the worker decides retries from `PushError.retryable` and deletes the contact on
 * `PushError.gone`.
 */

/** VAPID: our application server's key pair (base64url, as `npm run vapid:keys` prints) and a contact. */
export interface WebPushConfig {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: — push services use it to reach the operator of a misbehaving sender. */
  subject: string;
}

/**
 * What the service worker (web/public/sw.js) receives, decrypted. It is the contract between the
 * sender and the worker: change both together and bump `v`. Lock-screen text (`title`, `body`) is
 * built by the caller under settings.notificationDetail; nothing else here may carry patient detail.
 */
export const pushPayloadSchema = z.object({
  v: z.literal(1),
  title: z.string().min(1).max(200),
  body: z.string().max(500),
  /** The page id: a repeat of the same page replaces its notification instead of stacking. */
  tag: z.string().min(1).max(100),
  alertId: z.string().min(1),
  pageId: z.string().min(1),
  /** A path inside the app ('/#/my-alerts'): a tap on the notification opens it. */
  url: z.string().regex(/^\/(?!\/)/, 'A path in the app, starting with one /'),
  /** The absolute response link (/r/<token>) the worker POSTs { action, reason? } to; null: tap only. */
  respondUrl: z.url({ protocol: /^https?$/ }).nullable(),
  priority: z.enum(priorities),
});
export type PushPayload = z.infer<typeof pushPayloadSchema>;

export interface PushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export type PushUrgency = 'very-low' | 'low' | 'normal' | 'high';

export interface SendPushOptions {
  /**
   * How long the push service keeps the message for a phone that is offline. Default 900 s: a page
   * that arrives later than that has escalated already, and a stale one would only confuse.
   */
  ttlSeconds?: number;
  /** Default: 'high' for critical and high pages (the phone wakes at once), else 'normal'. */
  urgency?: PushUrgency;
  /** Default 10 s for the whole request: a push service that hangs must not hold a page. */
  timeoutMs?: number;
  /**
   * The HTTPS agent for the push service's connection: a hospital's TLS-inspecting proxy needs its
   * CA trusted (`new https.Agent({ ca })`), and so does the test receiver's self-signed certificate.
   */
  agent?: Agent;
}

/**
 * `status` is the push service's HTTP status, or 0 when no HTTP answer came back (network, TLS,
 * timeout) or the request was never sent (a malformed subscription or payload).
 */
export class PushError extends Error {
  override name = 'PushError';
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    /** 404/410: the subscription expired or was unsubscribed; the caller deletes the contact. */
    readonly gone = false,
    /** From a 429's Retry-After, when the push service gave one in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const DEFAULT_TTL_SECONDS = 900;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Push services accept 4096 bytes of ciphertext; the encryption adds 86 (header, tag, padding). */
const MAX_PAYLOAD_BYTES = 3_800;

export const urgencyFor = (priority: PushPayload['priority']): PushUrgency => (priority === 'critical' || priority === 'high' ? 'high' : 'normal');

/** A VAPID key pair for the WEB_PUSH_VAPID_* settings (scripts/vapid-keys.ts). */
export const generateVapidKeys = (): { publicKey: string; privateKey: string } => webpush.generateVAPIDKeys();

const b64urlBytes = (s: string) => (/^[A-Za-z0-9_-]+={0,2}$/.test(s) ? Buffer.from(s, 'base64url').length : -1);

export async function sendPush(cfg: WebPushConfig, subscription: PushSubscription, payload: PushPayload, opts: SendPushOptions = {}): Promise<{ status: number }> {
  const parsed = pushPayloadSchema.safeParse(payload);
  if (!parsed.success) throw new PushError(`Push payload refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 0, false);
  const body = JSON.stringify(parsed.data);
  if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) throw new PushError(`Push payload is ${Buffer.byteLength(body)} bytes, over ${MAX_PAYLOAD_BYTES}`, 0, false);
  // Checked here so that every error web-push throws afterwards is about the connection.
  if (!subscription.endpoint.startsWith('https://') || b64urlBytes(subscription.keys.p256dh) !== 65 || b64urlBytes(subscription.keys.auth) < 16)
    throw new PushError('Push subscription is malformed (an https endpoint, a 65-byte p256dh key and a 16-byte auth secret are needed)', 0, false);

  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  // web-push's own `timeout` is a socket idle timeout; the deadline bounds the whole exchange.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PushError(`Push service gave no answer within ${timeoutMs} ms`, 0, true)), timeoutMs);
  });
  try {
    const res = await Promise.race([
      webpush.sendNotification(subscription, body, {
        vapidDetails: { subject: cfg.subject, publicKey: cfg.publicKey, privateKey: cfg.privateKey },
        TTL: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS,
        urgency: opts.urgency ?? urgencyFor(parsed.data.priority),
        // A phone that was offline gets only the newest message of a page (RFC 8030 §5.4).
        topic: createHash('sha256').update(parsed.data.tag).digest('base64url').slice(0, 32),
        contentEncoding: 'aes128gcm',
        timeout: timeoutMs,
        ...(opts.agent ? { agent: opts.agent } : {}),
      }),
      deadline,
    ]);
    return { status: res.statusCode };
  } catch (err) {
    throw toPushError(err);
  } finally {
    clearTimeout(timer);
  }
}

/** The push service's verdict as ours. Never carries the endpoint or keys (they are credentials). */
function toPushError(err: unknown): PushError {
  if (err instanceof PushError) return err;
  if (err instanceof webpush.WebPushError) {
    const s = err.statusCode;
    const detail = typeof err.body === 'string' && err.body ? `: ${err.body.slice(0, 200)}` : '';
    if (s === 404 || s === 410) return new PushError(`Push subscription is gone (${s})${detail}`, s, false, true);
    const retryAfter = Number(err.headers?.['retry-after']);
    // 4xx other than 429 means this request will never succeed as is (VAPID, size, encoding).
    return new PushError(`Push service refused (${s})${detail}`, s, s >= 500 || s === 429, false, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined);
  }
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  // Node's network and TLS errors carry a code; web-push's own socket timeout says so. Anything else
  // is a bug or a bad setting (a VAPID key web-push refuses), which a retry cannot fix.
  const network = typeof e?.code === 'string' || message === 'Socket timeout';
  return new PushError(network ? `Push service unreachable: ${message}` : `Push not sent: ${message}`, 0, network);
}
