import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './reconnect.js';

describe('reconnect delay', () => {
  it('spreads the first retry over a second and caps later ones at 3 s', () => {
    expect(reconnectDelayMs(0, () => 0)).toBe(0);
    expect(reconnectDelayMs(0, () => 0.999)).toBe(999);
    expect(reconnectDelayMs(1, () => 0)).toBe(500);
    expect(reconnectDelayMs(1, () => 1)).toBe(1_000);
    expect(reconnectDelayMs(6, () => 0)).toBe(1_500);
    expect(reconnectDelayMs(6, () => 1)).toBe(3_000);
  });

  it('does not send a thousand screens back in the same instant', () => {
    const delays = Array.from({ length: 1_000 }, () => reconnectDelayMs(0));
    const perTenth = new Map<number, number>();
    for (const d of delays) perTenth.set(Math.floor(d / 100), (perTenth.get(Math.floor(d / 100)) ?? 0) + 1);
    expect(perTenth.size).toBe(10);
    expect(Math.max(...perTenth.values())).toBeLessThan(200);
  });
});
