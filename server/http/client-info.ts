import type { IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';

export const SESSION_COOKIE = 'clarion_session';

/**
 * The client's IP. X-Forwarded-For is trusted only across the configured number of proxy hops,
 * so a client cannot pick its own address to dodge login throttling.
 */
export function clientIp(req: IncomingMessage, trustProxyHops: number): string {
  const socketIp = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops <= 0) return socketIp;
  const header = req.headers['x-forwarded-for'];
  const chain = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // The last `hops` entries were appended by our proxies; the one before them is the client.
  return chain[chain.length - trustProxyHops] ?? chain[0] ?? socketIp;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || undefined;
  const cookies = req.headers.cookie ? parseCookie(req.headers.cookie) : {};
  return cookies[SESSION_COOKIE] || undefined;
}

export function userAgent(req: IncomingMessage): string | null {
  const ua = req.headers['user-agent'];
  return ua ? ua.slice(0, 512) : null;
}
