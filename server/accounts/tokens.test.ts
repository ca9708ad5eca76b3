import { describe, expect, it } from 'vitest';
import { checkSetupToken, hashSetupToken, newSetupToken, setupUrl } from './tokens.js';

const secret = 's'.repeat(40);
const inAnHour = () => new Date(Date.now() + 3_600_000);

describe('setup tokens', () => {
  it('accepts its own token and returns the signed expiry', () => {
    const expires = inAnHour();
    const token = newSetupToken(secret, expires);
    const r = checkSetupToken(secret, token);
    expect(r.ok).toBe(true);
    if (r.ok) expect(Math.abs(r.expiresAt.getTime() - expires.getTime())).toBeLessThan(1000);
    expect(hashSetupToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSetupToken(token)).not.toContain(token);
  });

  it('refuses tampering with any part, another secret, expiry and garbage', () => {
    const token = newSetupToken(secret, inAnHour());
    const [exp, nonce, sig] = token.split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(checkSetupToken(secret, `${Number(exp) + 3600}.${nonce}.${sig}`)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkSetupToken(secret, `${exp}.${flip(nonce)}.${sig}`)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkSetupToken(secret, `${exp}.${nonce}.${flip(sig)}`)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkSetupToken('t'.repeat(40), token)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(checkSetupToken(secret, newSetupToken(secret, new Date(Date.now() - 1000)))).toEqual({ ok: false, reason: 'expired' });
    for (const bad of ['', 'x', `${token}.`, token.slice(1), `${exp}.${nonce}`]) expect(checkSetupToken(secret, bad).ok).toBe(false);
  });

  it('builds the link under PUBLIC_URL', () => {
    expect(setupUrl('https://clarion.example.org/', 'a.b.c')).toBe('https://clarion.example.org/setup?token=a.b.c');
  });
});
