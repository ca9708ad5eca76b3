import { randomBytes, randomInt, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

// No 0/O/o or 1/l/I: the password is read off a screen or a printout and typed in once.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
const GROUPS = 4;
const GROUP_LENGTH = 5;

/** 20 random symbols of 56 ≈ 116 bits, shown as `xxxxx-xxxxx-xxxxx-xxxxx`. */
export function generateTemporaryPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let s = '';
    for (let i = 0; i < GROUP_LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}

/**
 * Hashes a *generated* temporary password in the same `scrypt$N$r$p$salt$key` format that
 * server/auth/passwords.ts verifies (it reads the parameters from the hash), but with N = 2^8
 * instead of 2^15. Key stretching protects guessable, human-chosen passwords; a 116-bit random
 * secret cannot be brute-forced at any cost factor (session tokens are likewise stored as a plain
 * SHA-256), so the cheap factor loses nothing and lets a 100-user import finish well under a second
 * (at full cost it takes ~5 s on 2 cores). verifyPassword pads a cheap hash to the standard cost, so
 * sign-in time does not reveal which accounts hold a temporary password. The user must replace it at
 * first sign-in (mustChangePassword), and the new password gets the full cost.
 */
const TEMP_PARAMS = { N: 2 ** 8, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export async function hashTemporaryPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFKC'), salt, 64, TEMP_PARAMS);
  return `scrypt$${TEMP_PARAMS.N}$${TEMP_PARAMS.r}$${TEMP_PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A fresh temporary password and its hash. */
export async function newTemporaryPassword(): Promise<{ password: string; hash: string }> {
  const password = generateTemporaryPassword();
  return { password, hash: await hashTemporaryPassword(password) };
}
