import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';

/**
 * Web hardening in one place: security headers on every response, a strict CORS policy and the
 * WebSocket Origin check. Same-origin is always allowed; other origins only when listed in
 * CORS_ORIGINS. Requests without an Origin header (curl, k6, integrations) are not browsers and
 * are not subject to CORS.
 */
export type SecurityConfig = Pick<Config, 'isProduction' | 'publicUrl' | 'profile' | 'metricsToken'> & { corsOrigins: string[] };

// A host header we are willing to echo into the CSP (anything else falls back to 'self' only).
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/;

/**
 * The built SPA (web/dist/index.html) loads one module script and one stylesheet from /assets, shows
 * the 2FA QR code as a data: image, and opens a WebSocket to the same host. React sets styles through
 * the CSSOM (allowed), but charts' SVG may carry style attributes, hence 'unsafe-inline' for styles only.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const ws = host && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse, config: SecurityConfig): void {
  // Every answer may carry patient data (tRPC, downloads, errors that echo input) unless it is a static
  // file, whose handler overrides this (staticCacheHeaders): no browser or proxy cache keeps a copy.
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.headers.host));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  // HSTS only where TLS is guaranteed: a development browser would otherwise refuse plain http://localhost.
  if (config.isProduction) res.setHeader('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
}

/** The origins a browser request may come from: this host, PUBLIC_URL, and the CORS_ORIGINS allowlist. */
export function isAllowedOrigin(origin: string, req: IncomingMessage, config: SecurityConfig): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.origin === 'null') return false;
  if (config.corsOrigins.includes(parsed.origin)) return true;
  if (parsed.origin === new URL(config.publicUrl).origin) return true;
  return parsed.host === req.headers.host;
}

/**
 * CORS for /trpc and downloads. Returns true when the request was answered (a preflight, or a
 * refused foreign origin) and must not go further.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, config: SecurityConfig): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  if (!isAllowedOrigin(origin, req, config)) {
    // A foreign page may not even make the call (a browser would only hide the answer; we refuse it).
    res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: 'origin not allowed' }));
    return true;
  }
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Vary', 'Origin');
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'authorization, content-type, x-request-id, trpc-accept',
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return true;
  }
  return false;
}

/** WebSocket upgrades: browsers always send Origin; a foreign one is refused. No Origin = not a browser. */
export function isAllowedUpgrade(req: IncomingMessage, config: SecurityConfig): boolean {
  const origin = req.headers.origin;
  return !origin || isAllowedOrigin(origin, req, config);
}

export function securityConfigOf(config: Config): SecurityConfig {
  return { isProduction: config.isProduction, profile: config.profile, publicUrl: config.publicUrl, corsOrigins: config.corsOrigins, metricsToken: config.metricsToken };
}

const digest = (v: string) => createHash('sha256').update(v).digest();

/**
 * The operator endpoints (/metrics, /readyz's details) answer a caller presenting METRICS_TOKEN as a
 * bearer token (Prometheus: `authorization: { credentials: … }`). Without a token configured they are
 * open in development and test only; staging and production fail closed.
 */
export function isOperator(req: IncomingMessage, config: SecurityConfig): boolean {
  if (!config.metricsToken) return config.profile === 'development' || config.profile === 'test';
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Bearer ')) return false;
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(digest(auth.slice(7).trim()), digest(config.metricsToken));
}

/**
 * /readyz for anyone but an operator: the verdict and each check's state, not the `detail` texts (driver
 * errors name hosts, users and ports; the heartbeat says when the worker last ran).
 */
export function withoutDetails<T extends { checks: Record<string, object> }>(ready: T): T {
  const checks = Object.fromEntries(Object.entries(ready.checks).map(([name, { detail: _detail, ...rest }]: [string, { detail?: unknown }]) => [name, rest]));
  return { ...ready, checks };
}

/** Source maps would publish the client's full source; production never serves them, even if built. */
export function isServableStatic(path: string, config: SecurityConfig): boolean {
  return !(config.isProduction && path.endsWith('.map'));
}

/** sirv's setHeaders: Vite's hashed /assets never change (cache for a year); the rest revalidates. */
export function staticCacheHeaders(res: ServerResponse, pathname: string): void {
  res.setHeader('Cache-Control', pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
}
