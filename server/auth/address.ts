import ipaddr from 'ipaddr.js';

/**
 * The unit sign-in limits and lockouts count per "address": an IPv4 address, or the /64 network of an
 * IPv6 one — a single subscriber line or device usually holds a whole /64, so counting per full IPv6
 * address would let one attacker rotate through billions of "addresses". IPv4-mapped IPv6 counts as
 * its IPv4 address. Anything unparsable is counted as it is.
 */
export function addressGroup(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip);
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
