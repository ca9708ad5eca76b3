import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

/** TOTP parameters: RFC 6238 defaults, which every authenticator app understands. */
const PERIOD = 30;
/** One step either side, for clock drift between phone and server. */
const TOLERANCE_SECONDS = 30;
export const ISSUER = 'Clarion';

// ── Secret at rest: AES-256-GCM, "iv.tag.ciphertext" in base64, bound to the user id as associated data
// so a ciphertext copied onto another user's row does not decrypt.

export function encryptSecret(key: Buffer, userId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(userId));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join('.');
}

export function decryptSecret(key: Buffer, userId: string, stored: string): string {
  const [iv, tag, data] = stored.split('.').map((p) => Buffer.from(p, 'base64'));
  if (!iv || !tag || !data) throw new Error('malformed TOTP secret ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(userId));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}

export const newTotpSecret = () => generateSecret();

export async function provisioning(email: string, secret: string): Promise<{ otpauthUri: string; qrCodeDataUrl: string }> {
  const otpauthUri = generateURI({ issuer: ISSUER, label: email, secret, period: PERIOD });
  const qrCodeDataUrl = await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 1, width: 240 });
  return { otpauthUri, qrCodeDataUrl };
}

export const isTotpFormat = (code: string) => /^\d{6}$/.test(code.trim());

// Accepts the step only if it is later than the last step this user spent: a code (or an older one
// still inside the tolerance) cannot be used twice. Atomic, so two parallel logins cannot both pass.
const SPEND_STEP = `
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

/**
 * Checks a TOTP code and spends its time step. When Redis is down the replay guard is skipped (logged):
 * the code is still checked, and a replay needs the password too.
 */
export async function verifyTotp(deps: Pick<AppDeps, 'config' | 'redis' | 'log'>, userId: string, secret: string, code: string): Promise<boolean> {
  if (!isTotpFormat(code)) return false;
  const now = Math.floor(Date.now() / 1000);
  const result = await verify({ secret, token: code.trim(), period: PERIOD, epoch: now, epochTolerance: TOLERANCE_SECONDS });
  if (!result.valid) return false;
  const step = Math.floor(now / PERIOD) + result.delta;
  try {
    const fresh = await deps.redis.eval(SPEND_STEP, 1, redisKey(deps.config.redis, 'totp', 'last-step', userId), String(step), String(PERIOD * 6));
    return fresh === 1;
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'TOTP replay guard unavailable (Redis); accepting a valid code without it');
    return true;
  }
}

// ── Backup codes: 10 codes of 10 characters from a 31-letter alphabet without look-alikes (~49 bits
// each), shown as "xxxxx-xxxxx". High entropy, so a plain SHA-256 is enough to store them.

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const BACKUP_CODE_COUNT = 10;

export function newBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => {
    const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** Dashes, spaces and case do not matter when a code is typed back. */
export const hashBackupCode = (code: string) =>
  createHash('sha256')
    .update(code.replace(/[\s-]/g, '').toLowerCase())
    .digest('hex');
