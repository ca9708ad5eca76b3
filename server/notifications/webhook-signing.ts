import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Clarion-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` — the scheme of every
 * webhook Clarion sends (pages to a pager gateway now, the integrations' event webhooks next), so a
 * receiver verifies them all the same way and rejects a replay by its old timestamp.
 */
export const SIGNATURE_HEADER = 'x-clarion-signature';

export function signatureHeader(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${nowSeconds},v1=${createHmac('sha256', secret).update(`${nowSeconds}.${body}`).digest('hex')}`;
}

/** A receiver's check (used by Clarion's own tests and documented for integrators). */
export function verifySignatureHeader(secret: string, body: string, header: string | undefined, toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return timingSafeEqual(expected, Buffer.from(m[2] as string));
}

/**
 * A webhook contact's signing secret, derived from the server's token secret and the contact's id:
 * shown to its owner when added, never stored, the same on every instance.
 */
export const contactWebhookSecret = (tokenSecret: string, contactId: string) =>
  `whsec_${createHmac('sha256', tokenSecret).update(`webhook-contact:${contactId}`).digest('base64url')}`;
