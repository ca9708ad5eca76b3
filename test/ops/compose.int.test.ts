import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const secrets = { POSTGRES_PASSWORD: 'pw', TOTP_ENCRYPTION_KEY: 'k', TOKEN_SIGNING_SECRET: 's' };

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

  it('the Dockerfile is multi-stage and runs as a non-root user with a health check', () => {
    const docker = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(docker.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(docker).toMatch(/^USER node$/m);
    expect(docker).toMatch(/^HEALTHCHECK /m);
  });
});
