import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const secrets = { POSTGRES_PASSWORD: 'pw', TOTP_ENCRYPTION_KEY: 'k', TOKEN_SIGNING_SECRET: 's', AUDIT_ANCHOR_KEY: 'a' };

describe('docker-compose.yml', () => {
  it('is valid for Debian docker-compose (no engine needed) and names every service', async () => {
    const env = { ...process.env, ...secrets };
    const { stdout } = await run('docker-compose', ['-f', `${root}docker-compose.yml`, 'config', '--services'], { env });
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['migrate', 'postgres', 'proxy', 'redis', 'server-1', 'server-2', 'worker']);
  });

  it('runs two health-checked servers behind the proxy, after the one-shot migration', async () => {
    const env = { ...process.env, ...secrets };
    const { stdout } = await run('docker-compose', ['-f', `${root}docker-compose.yml`, 'config'], { env });
    for (const name of ['server-1', 'server-2']) {
      const block = stdout.split(`\n  ${name}:\n`)[1]?.split(/\n {2}\S/)[0] ?? '';
      expect(block).toMatch(/readyz/);
      expect(block).toMatch(/service_completed_successfully/);
    }
    expect(stdout).toMatch(/pg_isready/);
    expect(stdout).toMatch(/archive_mode=on/);
    const nginx = readFileSync(`${root}deploy/nginx.conf`, 'utf8');
    expect(nginx).toMatch(/server server-1:3000/);
    expect(nginx).toMatch(/server server-2:3000/);
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
  });

  it('refuses to start without its secrets', async () => {
    const env = { ...process.env, POSTGRES_PASSWORD: '', TOTP_ENCRYPTION_KEY: '', TOKEN_SIGNING_SECRET: '' };
    const result = await run('docker-compose', ['-f', `${root}docker-compose.yml`, 'config', '-q'], { env }).catch((e) => e);
    expect(result.code).not.toBe(0);
    expect(String(result.stderr)).toMatch(/POSTGRES_PASSWORD|TOTP_ENCRYPTION_KEY/);
  });

  it('has no obsolete top-level version key; passes METRICS_TOKEN; the proxy does not expose /metrics', () => {
    for (const file of ['docker-compose.yml', 'docker-compose.dev.yml']) expect(readFileSync(`${root}${file}`, 'utf8'), file).not.toMatch(/^version:/m);
    expect(readFileSync(`${root}docker-compose.yml`, 'utf8')).toMatch(/METRICS_TOKEN: \$\{METRICS_TOKEN:-\}/);
    expect(readFileSync(`${root}deploy/nginx.conf`, 'utf8')).toMatch(/location = \/metrics \{\s*return 404;/);
  });

  it('the Dockerfile is multi-stage and runs as a non-root user with a health check', () => {
    const docker = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(docker.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(docker).toMatch(/^USER node$/m);
    expect(docker).toMatch(/^HEALTHCHECK /m);
  });
});

describe('docker-compose.dev.yml (Postgres and Redis for npm start, README fallback)', () => {
  // No secrets at all: the development path must not need the deployment's.
  const bare = { ...process.env, POSTGRES_PASSWORD: '', TOTP_ENCRYPTION_KEY: '', TOKEN_SIGNING_SECRET: '' };
  const config = () => run('docker-compose', ['-f', `${root}docker-compose.dev.yml`, 'config'], { env: bare });

  it('is valid without any secret and runs only Postgres and Redis', async () => {
    const { stdout } = await run('docker-compose', ['-f', `${root}docker-compose.dev.yml`, 'config', '--services'], { env: bare });
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['dev-postgres', 'dev-redis']);
  });

  it("matches npm start's default DATABASE_URL and REDIS_URL, published on 127.0.0.1 only", async () => {
    const { stdout } = await config();
    const defaults = loadConfig({});
    const db = new URL(defaults.database.url);
    expect(db.username).toBe('postgres');
    expect(db.password).toBe('');
    expect(stdout).toMatch(/POSTGRES_HOST_AUTH_METHOD: trust/);
    expect(stdout).toMatch(new RegExp(`POSTGRES_USER: ${db.username}`));
    expect(stdout).toMatch(new RegExp(`POSTGRES_DB: ${db.pathname.slice(1)}`));
    expect(stdout).toContain(`- ${db.hostname}:${db.port}:5432`);
    expect(stdout).toContain(`- ${defaults.redis.host}:${defaults.redis.port}:6379`);
    // Every published port is bound to loopback (trust authentication must not reach the network).
    const ports = [...stdout.matchAll(/^\s+- (\S+:\d+:\d+)/gm)].map((m) => m[1]);
    expect(ports.length).toBe(2);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('is the command the README and npm start tell a newcomer to run', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    expect(readme).toContain('docker-compose -f docker-compose.dev.yml up -d');
    expect(readme).not.toMatch(/docker-compose up -d postgres redis/);
    expect(readFileSync(`${root}scripts/services.ts`, 'utf8')).toContain('docker-compose -f docker-compose.dev.yml up -d');
  });
});
