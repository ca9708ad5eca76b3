import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_AUDIT_ANCHOR_KEY, DEVELOPMENT_TOKEN_SECRET, DEVELOPMENT_TOTP_KEY } from '../../server/config.js';
import { DEV_PASSWORD } from '../../server/seed/dev.js';
import { closeDeps, createDeps } from '../../server/deps.js';
import { createLogger } from '../../server/logger.js';
import { createTestEnv, LOG_DIR, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants } from '../support/tenants.js';

// Scans every log line written during the test run (test-artifacts/logs/*.ndjson) for the seeded
// password, bearer tokens and TOTP secrets. Files run in parallel, so this file does not rely on running
// last: it makes its own secrets (signs in, sets up and enables 2FA, fails a login, calls with a bearer
// token over HTTP and WebSocket) at log level debug, then scans its own log and every other file there.

let env: TestEnv;
let server: TestServer;
const memory: string[] = [];
const secrets: { what: string; value: string }[] = [
  { what: 'seeded password', value: DEV_PASSWORD },
  // The keys from the environment (the test profile runs with the development ones).
  { what: 'TOTP encryption key', value: DEVELOPMENT_TOTP_KEY },
  { what: 'audit anchor key', value: DEVELOPMENT_AUDIT_ANCHOR_KEY },
  { what: 'setup-link token secret', value: DEVELOPMENT_TOKEN_SECRET },
];

const patterns: { what: string; re: RegExp }[] = [
  { what: 'bearer token', re: /Bearer\s+(?!\[redacted\])[A-Za-z0-9_\-.~+/=]{16,}/i },
  { what: 'otpauth URI (TOTP secret)', re: /otpauth:\/\/[^"\s]*secret=/i },
  { what: 'unredacted token field', re: /"(token|password|currentPassword|newPassword|totp|secret|authorization|cookie)"\s*:\s*"(?!\[redacted\])[^"]+"/ },
  { what: 'session cookie value', re: /clarion_session=[A-Za-z0-9_-]{16,}/i },
];

beforeAll(async () => {
  env = await createTestEnv({ LOG_LEVEL: 'debug' });
  await seedTenants(env);
  // This server logs into memory as well as the file, so the scan holds even if another run clears the directory.
  const log = createLogger(env.config, { write: (line: string) => void memory.push(line) }).child({ process: 'server' });
  const deps = createDeps(env.config, log);
  afterAll(() => closeDeps(deps));
  server = await startTestServer({ ...env, deps });
  const anon = clientFor(server);
  const login = (await anon.auth.login.mutate({ email: 'head@general.test', password: DEV_PASSWORD })) as { token: string };
  secrets.push({ what: 'session token', value: login.token });
  const me = clientFor(server, login.token);
  const setup = (await me.auth.setupTwoFactor.mutate()) as { otpauthUri: string; backupCodes: string[] };
  const totpSecret = new URL(setup.otpauthUri).searchParams.get('secret') as string;
  secrets.push({ what: 'TOTP secret', value: totpSecret });
  for (const code of setup.backupCodes) secrets.push({ what: 'backup code', value: code });
  await me.auth.enableTwoFactor.mutate({ totp: await generate({ secret: totpSecret }) });
  // A wrong password, a wrong TOTP, and a good sign-in with TOTP: every path that handles a secret.
  await anon.auth.login.mutate({ email: 'head@general.test', password: `${DEV_PASSWORD}x` }).catch(() => undefined);
  await anon.auth.login.mutate({ email: 'head@general.test', password: DEV_PASSWORD, totp: '000000' }).catch(() => undefined);
  // The TOTP code was just spent (replay protection), so sign in with a backup code in its place.
  const second = (await anon.auth.login.mutate({ email: 'head@general.test', password: DEV_PASSWORD, totp: setup.backupCodes[0] as string })) as { token?: string };
  expect(second.token).toBeTruthy();
  if (second.token) secrets.push({ what: 'session token', value: second.token });
  // The token over the WebSocket (connectionParams) and as a cookie.
  const sub = clientFor(server, login.token).alerts.onEvent.subscribe(undefined, { onData: () => undefined, onError: () => undefined });
  await new Promise((r) => setTimeout(r, 300));
  sub.unsubscribe();
  await fetch(`${server.url}/trpc/auth.me`, { headers: { cookie: `clarion_session=${login.token}` } });
  await fetch(`${server.url}/trpc/auth.me`, { headers: { authorization: 'Bearer not-a-real-token-but-looks-like-one' } });
  secrets.push({ what: 'bearer token sent by a client', value: 'not-a-real-token-but-looks-like-one' });
  await new Promise((r) => setTimeout(r, 200));
});

describe('logs written during the test run', () => {
  it('contain no password, token, TOTP secret or backup code', () => {
    const files = existsSync(LOG_DIR) ? readdirSync(LOG_DIR).filter((f) => f.endsWith('.ndjson')) : [];
    const sources: [string, string][] = [['(this file, in memory)', memory.join('')], ...files.map((f): [string, string] => [f, readFileSync(join(LOG_DIR, f), 'utf8')])];
    let lines = 0;
    const found: string[] = [];
    for (const [f, text] of sources) {
      for (const [i, line] of text.split('\n').entries()) {
        if (!line) continue;
        lines++;
        for (const s of secrets) if (s.value && line.includes(s.value)) found.push(`${f}:${i + 1}: ${s.what}`);
        for (const p of patterns) if (p.re.test(line)) found.push(`${f}:${i + 1}: ${p.what}: ${line.slice(0, 200)}`);
      }
    }
    expect(found).toEqual([]);
    // The run did log (debug level here): the scan looked at something real.
    expect(memory.length).toBeGreaterThan(5);
    expect(lines).toBeGreaterThanOrEqual(memory.length);
  });
});
