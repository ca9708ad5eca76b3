import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { generateTemporaryPassword, hashTemporaryPassword, newTemporaryPassword } from './temporary-password.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

describe('temporary passwords', () => {
  it('are 20 unambiguous random symbols in four groups, never repeated', () => {
    const all = Array.from({ length: 500 }, generateTemporaryPassword);
    for (const p of all) expect(p).toMatch(/^[A-HJ-NP-Za-km-np-z2-9]{5}(-[A-HJ-NP-Za-km-np-z2-9]{5}){3}$/);
    expect(new Set(all).size).toBe(all.length);
  });

  it('hash in the format the sign-in code verifies', async () => {
    const { password, hash } = await newTemporaryPassword();
    expect(hash).toMatch(/^scrypt\$256\$8\$1\$/);
    expect(hash).not.toContain(password);
    expect(await verifyPassword(password, hash)).toBe(true);
    expect(await verifyPassword(`${password}x`, hash)).toBe(false);
  });

  it('take as long to verify as a full-cost hash, so sign-in time reveals nothing', async () => {
    const temp = await hashTemporaryPassword('temporary-secret');
    const full = await hashPassword('chosen-password');
    const tempMs: number[] = [];
    const fullMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      tempMs.push(await timed(() => verifyPassword('wrong', temp)));
      fullMs.push(await timed(() => verifyPassword('wrong', full)));
    }
    // Unpadded, a cheap hash verifies ~100 times faster; padded it is at least as slow.
    expect(median(tempMs)).toBeGreaterThan(median(fullMs) * 0.3);
  });
});
