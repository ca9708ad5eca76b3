import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Setup-link tokens: `<expires, unix seconds>.<32 random bytes>.<HMAC-SHA256>` (base64url parts).
 * The HMAC (key: TOKEN_SIGNING_SECRET) covers the expiry and the random part, so a tampered or forged
 * link is refused before the database is asked, and rotating the secret voids every open link. The
 * database keeps only the SHA-256 of the whole token and decides single use.
 */
const VERSION = 'clarion-setup-link.v1';
const FORMAT = /^(\d{9,12})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

const sign = (secret: string, expires: string, nonce: string) => createHmac('sha256', secret).update(`${VERSION}.${expires}.${nonce}`).digest('base64url');

export const hashSetupToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function newSetupToken(secret: string, expiresAt: Date): string {
  const expires = String(Math.floor(expiresAt.getTime() / 1000));
  const nonce = randomBytes(32).toString('base64url');
  return `${expires}.${nonce}.${sign(secret, expires, nonce)}`;
}

export type TokenCheck = { ok: true; expiresAt: Date } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/** Checks form, signature (in constant time) and the signed expiry; the database check comes after. */
export function checkSetupToken(secret: string, token: string, now = Date.now()): TokenCheck {
  const m = FORMAT.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const [, expires, nonce, sig] = m as unknown as [string, string, string, string];
  const expected = Buffer.from(sign(secret, expires, nonce));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  const expiresAt = new Date(Number(expires) * 1000);
  if (expiresAt.getTime() <= now) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAt };
}

/** The link a user opens: the web app's /setup page with the token in the query. */
export const setupUrl = (publicUrl: string, token: string) => `${publicUrl.replace(/\/+$/, '')}/setup?token=${encodeURIComponent(token)}`;
