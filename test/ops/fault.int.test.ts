import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killServer } from '../../scripts/fault-kill-server.js';
import { killWorker } from '../../scripts/fault-kill-worker.js';
import { createStack, type Stack } from '../../scripts/fault-lib.js';

// Small versions of `npm run fault` (the full run, with 200 subscribers and the Redis and Postgres
// restarts, is a script; its numbers are in docs/operations.md). Private Postgres cluster and Redis:
// the machine's shared services are never restarted.
const canInitdb = existsSync('/usr/lib/postgresql/15/bin/initdb');
let stack: Stack;

describe.skipIf(!canInitdb)('fault injection (CI size)', () => {
  beforeAll(async () => {
    stack = await createStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('SIGKILL of one of two servers: its subscribers reconnect to the other and miss nothing', async () => {
    const r = await killServer(stack, { subscribers: 40, alerts: 20 });
    expect(r.expected).toBeGreaterThan(0);
    expect({ lost: r.lost, duplicated: r.duplicated, createFailures: r.createFailures }).toEqual({ lost: 0, duplicated: 0, createFailures: 0 });
  }, 60_000);

  it('SIGKILL of the worker mid-escalation: every level happens exactly once after it restarts', async () => {
    const r = await killWorker(stack, { subscribers: 10, alerts: 8, downMs: 1_500 });
    expect({ missing: r.escalationsMissing, duplicated: r.escalationsDuplicated, lost: r.lost, dup: r.duplicated }).toEqual({ missing: 0, duplicated: 0, lost: 0, dup: 0 });
  }, 60_000);
});
