import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

describe('docker-compose.yml', () => {
  it('is valid for Debian docker-compose (no engine needed) and names every service', async () => {
    const env = { ...process.env, POSTGRES_PASSWORD: 'pw', TOTP_ENCRYPTION_KEY: 'k', TOKEN_SIGNING_SECRET: 's' };
    const { stdout } = await run('docker-compose', ['-f', `${root}docker-compose.yml`, 'config', '--services'], { env });
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['migrate', 'postgres', 'redis', 'server', 'worker']);
  });

  it('refuses to start without its secrets', async () => {
    const env = { ...process.env, POSTGRES_PASSWORD: '', TOTP_ENCRYPTION_KEY: '', TOKEN_SIGNING_SECRET: '' };
    const result = await run('docker-compose', ['-f', `${root}docker-compose.yml`, 'config', '-q'], { env }).catch((e) => e);
    expect(result.code).not.toBe(0);
    expect(String(result.stderr)).toMatch(/POSTGRES_PASSWORD|TOTP_ENCRYPTION_KEY/);
  });
});
