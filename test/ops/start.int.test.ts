import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/fault-lib.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

// Issue 13, "Also found": `npm start` must not leave npm, node, server, worker or esbuild processes
// behind when it is stopped by SIGTERM (a parent shell, a service manager), SIGHUP (a closed terminal)
// or even SIGKILL; and in development its children's logs are readable (pino-pretty), not JSON.

const root = new URL('../..', import.meta.url).pathname;
let env: TestEnv;
let webDir: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  webDir = mkdtempSync(join(tmpdir(), 'clarion-start-web-'));
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Clarion</title>');
});
afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(webDir, { recursive: true, force: true });
});

/** Every process whose ancestry leads to `pid`, from /proc (ppid is field 4 of /proc/<pid>/stat). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) is not running anything.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '?';
  }
};

async function launch(command: string, args: string[]): Promise<{ proc: ChildProcess; output: () => string; port: number }> {
  const port = await freePort();
  const proc = spawn(command, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env.childEnv, CLARION_ENV: 'development', LOG_LEVEL: 'info', PORT: String(port), WEB_DIST_DIR: webDir, CLARION_REBUILD_WEB: '0' },
  });
  started.push(proc);
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const deadline = Date.now() + 90_000;
  while (!out.includes('Clarion is running')) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`npm start did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { proc, output: () => out, port };
}

async function stopsEverything(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const tree = descendants(proc.pid as number);
  const described = tree.map((p) => `${p} ${commandOf(p)}`);
  // server and worker, at least (plus npm's shell, esbuild services…)
  expect(described.filter((d) => /server\/main\.ts|worker\/main\.ts/.test(d)), described.join('\n')).toHaveLength(2);
  proc.kill(signal);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && [proc.pid as number, ...tree].some(alive)) await new Promise((r) => setTimeout(r, 200));
  const left = [proc.pid as number, ...tree].filter(alive).map((p) => `${p} ${commandOf(p)}`);
  for (const p of [proc.pid as number, ...tree]) if (alive(p)) process.kill(p, 'SIGKILL');
  expect(left, `still running after ${signal}`).toEqual([]);
}

describe('npm start', () => {
  it('prints readable (pino-pretty) logs in development even when its output is not a terminal', async () => {
    const { proc, output } = await launch('node', ['--import', 'tsx', 'scripts/start.ts']);
    await new Promise((r) => setTimeout(r, 500));
    const lines = output().split('\n').filter((l) => l.startsWith('[server] ') || l.startsWith('[worker] '));
    expect(lines.length, output()).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('{"level"')), output()).toEqual([]);
    expect(lines.some((l) => /^\[(server|worker)\] \[\d\d:\d\d:\d\d\.\d{3}\] INFO/.test(l)), output()).toBe(true);
    await stopsEverything(proc, 'SIGTERM');
  }, 150_000);

  it('SIGTERM to `npm start` (as a parent shell sends it) stops npm and every child', async () => {
    const { proc } = await launch('npm', ['start', '--silent']);
    await stopsEverything(proc, 'SIGTERM');
  }, 150_000);

  it('SIGHUP (the terminal closed) stops every child', async () => {
    const { proc } = await launch('node', ['--import', 'tsx', 'scripts/start.ts']);
    await stopsEverything(proc, 'SIGHUP');
  }, 150_000);

  it('even SIGKILL of the launcher leaves no server or worker behind', async () => {
    const { proc } = await launch('node', ['--import', 'tsx', 'scripts/start.ts']);
    await stopsEverything(proc, 'SIGKILL');
  }, 150_000);
});

describe('a fresh install (npm ci, which npm start runs when node_modules is missing)', () => {
  // npm 11 skips dependencies' install scripts unless package.json's allowScripts approves them, and
  // warns on every install about the ones not reviewed. `npm install-scripts ls` is the same check,
  // without re-installing node_modules (a real `npm ci` in a scratch copy was verified by hand).
  it('has no install scripts left unreviewed, so npm prints no install-scripts warning', async () => {
    const { stdout, stderr } = await promisify(execFile)('npm', ['install-scripts', 'ls'], { cwd: root });
    expect(`${stdout}${stderr}`).toMatch(/No packages with unreviewed install scripts/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts).toEqual({ esbuild: true, 'msgpackr-extract': true });
  });
});

