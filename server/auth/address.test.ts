import { describe, expect, it } from 'vitest';
import { addressGroup } from './address.js';

describe('addressGroup', () => {
  it('keeps IPv4 addresses, maps IPv4-mapped IPv6 to IPv4, and groups IPv6 by /64', () => {
    expect(addressGroup('10.0.0.1')).toBe('10.0.0.1');
    expect(addressGroup('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(addressGroup('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:2:ffff::1')).toBe(addressGroup('2001:db8:1:2::9'));
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(addressGroup('2001:db8:1:2::1'));
    expect(addressGroup('unknown')).toBe('unknown');
  });
});
