import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../server/config.js';
import { contentSecurityPolicy, securityConfigOf, setSecurityHeaders } from '../../server/http/security.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ALLOWED = 'https://wallboard.example.org';
let env: TestEnv;
let server: TestServer;

beforeAll(async () => {
  env = await createTestEnv({ CORS_ORIGINS: ALLOWED });
  server = await startTestServer(env);
});

function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(server.wsUrl, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => resolve(-1));
  });
}

describe('security headers', () => {
  it('are on every response: health, API, errors, and the web app', async () => {
    for (const path of ['/healthz', '/readyz', '/trpc/health.check', '/trpc/no.such', '/', '/board']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      // Not production: no HSTS (it would pin development browsers to https).
      expect(res.headers.get('strict-transport-security'), path).toBeNull();
    }
  });

  it('the CSP allows what the built web app needs: its own scripts and styles, data: images (QR), its WebSocket', () => {
    const csp = contentSecurityPolicy('clarion.example.org');
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain('connect-src \'self\' ws://clarion.example.org wss://clarion.example.org');
    // A forged Host header cannot inject directives.
    expect(contentSecurityPolicy("evil; script-src 'unsafe-inline'").match(/script-src/g)).toHaveLength(1);
    expect(contentSecurityPolicy("evil; script-src 'unsafe-inline'")).toContain("connect-src 'self';");
  });

  it('HSTS is sent in production only', () => {
    const production = loadConfig({
      CLARION_ENV: 'production',
      DATABASE_URL: 'postgres://u@db/clarion',
      REDIS_URL: 'redis://r:6379/0',
      TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      TOKEN_SIGNING_SECRET: 'a-production-secret-that-is-long-enough-1234',
      AUDIT_ANCHOR_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
    const headers = new Map<string, string>();
    const res = { setHeader: (k: string, v: string) => headers.set(k.toLowerCase(), v) };
    setSecurityHeaders({ headers: { host: 'x' } } as never, res as never, securityConfigOf(production));
    expect(headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
  });
});

describe('CORS', () => {
  it('same-origin and non-browser calls pass; a foreign origin is refused; the allowlist is honoured', async () => {
    const same = await fetch(`${server.url}/trpc/health.check`, { headers: { origin: server.url } });
    expect(same.status).toBe(200);
    expect((await fetch(`${server.url}/trpc/health.check`)).status).toBe(200);

    const foreign = await fetch(`${server.url}/trpc/health.check`, { headers: { origin: 'https://evil.example.com' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const nullOrigin = await fetch(`${server.url}/trpc/health.check`, { headers: { origin: 'null' } });
    expect(nullOrigin.status).toBe(403);

    const allowed = await fetch(`${server.url}/trpc/health.check`, { headers: { origin: ALLOWED } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);

    const preflight = await fetch(`${server.url}/trpc/alerts.create`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const foreignPreflight = await fetch(`${server.url}/trpc/alerts.create`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com' } });
    expect(foreignPreflight.status).toBe(403);
  });

  it('CORS_ORIGINS must list origins, not URLs with paths', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://ok.example.org, https://bad.example.org/path' })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.org,https://b.example.org:8443' }).corsOrigins).toEqual(['https://a.example.org', 'https://b.example.org:8443']);
  });
});

describe('WebSocket origin check', () => {
  it('refuses a foreign Origin with 403; accepts same-origin, allowlisted and Origin-less clients', async () => {
    expect(await upgrade({ origin: 'https://evil.example.com' })).toBe(403);
    expect(await upgrade({ origin: server.url })).toBe(101);
    expect(await upgrade({ origin: ALLOWED })).toBe(101);
    expect(await upgrade({})).toBe(101);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('session cookie flags', () => {
  it('the session cookie is httpOnly and SameSite=Strict', async () => {
    const { seedTenants } = await import('../support/tenants.js');
    await seedTenants(env);
    const res = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'operator@general.test', password: 'Clarion-dev-2026!' }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
  });
});
