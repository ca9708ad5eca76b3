import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll } from 'vitest';
import { startWorkers } from '../../worker/workers.js';
import type { TestEnv } from './env.js';

const root = new URL('../..', import.meta.url).pathname;
const children = new Set<ChildProcess>();
// Registered when this module is imported (file level): hooks cannot be added from inside a test.
export function killWorkers(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
afterAll(killWorkers);

/** The real BullMQ workers, in this process, on this file's database and Redis prefix. */
export async function startTestWorker(env: TestEnv) {
  const running = await startWorkers(env.deps);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await running.close();
  };
  afterAll(close);
  return { ...running, close };
}

/** The worker as its own process (`npm run worker`), for kill and restart tests. */
export function spawnWorker(env: TestEnv, extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env.childEnv, LOG_LEVEL: 'warn', ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  return child;
}

/** Sets a hospital's escalation policy for a priority (seconds per level). */
export async function setPolicy(env: TestEnv, hospitalId: string, priority: string, levels: number[], extra: Record<string, number> = {}): Promise<void> {
  const policy = JSON.stringify({ levelTimeoutsSeconds: levels, ...extra });
  await env.deps.db.execute(
    sql`UPDATE hospitals SET settings = jsonb_set(coalesce(settings, '{}'::jsonb), ${`{escalation,${priority}}`}::text[], ${policy}::jsonb, true) WHERE id = ${hospitalId}`,
  );
}

export async function waitUntil(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
