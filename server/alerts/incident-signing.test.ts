import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, microsOf, parsePublicKey, publicKeyInfo } from './incident-signing.js';
import { isoMicros } from '../audit/chain.js';

// The stand-in for the `canonicalize` package must agree with RFC 8785 (JCS): its own examples.
describe('canonicalJson (RFC 8785)', () => {
  it('serialises the RFC 8785 §3.2.2 sample byte for byte', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Read the order off the text (Object.keys would put the integer-like "1" first whatever the text says).
    const values = [...canonicalJson(input).matchAll(/:"([^"]+)"/g)].map((m) => m[1]);
    expect(values).toEqual(['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
  });

  it('drops undefined members, refuses what JSON cannot hold', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/not allowed/);
    expect(() => canonicalJson({ n: 10n })).toThrow();
  });
});

describe('keys and times', () => {
  it('names a public key the same way whether given as SPKI, raw 32 bytes or PEM', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const info = publicKeyInfo(publicKey);
    expect(publicKeyInfo(parsePublicKey(spki.toString('base64')))).toEqual(info);
    expect(publicKeyInfo(parsePublicKey(spki.subarray(-32).toString('base64')))).toEqual(info);
    expect(publicKeyInfo(parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString()))).toEqual(info);
    expect(() => parsePublicKey('bm90IGEga2V5')).toThrow();
  });

  it('reads back microsecond timestamps exactly as the chain prints them', () => {
    for (const us of [0, 1_765_000_000_123_456, 1_765_000_000_000_001, 1_765_000_000_999_999]) expect(microsOf(isoMicros(us))).toBe(us);
  });
});
