import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaults, runHarness } from '../../load-tests/harness/run.js';
import { BASE_URL } from '../support/global-setup.js';

// A smoke run of the load harness with tiny numbers, so `npm run load` and `npm run bench:delivery`
// keep working: a real server process, real tRPC WebSocket subscribers, zero lost or duplicate deliveries.
describe('load harness', () => {
  it('delivers every alert exactly once to 20 subscribers on one instance', async () => {
    const tag = randomBytes(3).toString('hex');
    const report = await runHarness({
      ...defaults,
      subscribers: 20,
      instances: 1,
      rate: 5,
      duration: 1,
      departments: 2,
      headShare: 0.2,
      burstRounds: 1,
      flood: 0,
      baselines: [],
      worker: false,
      apiUsers: 4,
      thinkMs: 300,
      clientProcs: 1,
      postgresUrl: BASE_URL,
      database: `clarion_load_smoke_${tag}`,
      keepDatabase: false,
      out: `test-artifacts/load/smoke-${tag}.json`,
      plot: `test-artifacts/load/smoke-${tag}.svg`,
    });
    const [clarion] = report.targets;
    expect(clarion?.connected).toBe(20);
    expect(clarion?.steady.raised).toBe(5);
    expect(clarion?.burst.raised).toBe(2);
    expect(clarion?.counts.expected).toBeGreaterThan(0);
    expect(clarion?.counts.lost).toBe(0);
    expect(clarion?.counts.duplicates).toBe(0);
    expect(clarion?.counts.unexpected).toBe(0);
    expect(clarion?.steady.latency.count).toBe(clarion?.steady.deliveries);
    expect(report.api.errors).toBe(0);
    expect(report.processes.clarion?.[0]?.samples.length).toBeGreaterThan(0);
    expect(existsSync(`test-artifacts/load/smoke-${tag}-memory.svg`)).toBe(true);
    // The harness builds dist/ first when the sources are newer (load-tests/harness/build.ts): up to ~30 s more.
  }, 120_000);
});
