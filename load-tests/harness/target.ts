/**
 * One target (Clarion, raw ws or Socket.IO) through the same phases with the same subscribers:
 * connect, steady raising at a rate, bursts (one alert per department at the same instant, so every
 * screen gets one), a flood (as fast as the target accepts, for throughput), then counting.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { CallResult } from './api.js';
import { ROOT } from './processes.js';
import { alertTitle, type ChildResult, type FromChild, type Phase, type SubSpec, type Target, type ToChild } from './protocol.js';
import { Histogram, type LatencySummary, nowMs } from './stats.js';

export interface PhaseReport {
  raised: number;
  raiseErrors: number;
  deliveries: number;
  latency: LatencySummary;
  /** Deliveries per second from the first send to the last receive of the phase. */
  throughputPerSec: number;
  durationS: number;
}

export interface TargetReport {
  target: Target;
  subscribers: number;
  connected: number;
  failedConnections: number;
  connectSeconds: number;
  steady: PhaseReport;
  burst: PhaseReport;
  flood: PhaseReport;
  /** Steady phase, from the server-side alert.createdAt (Clarion only): the fan-out share of the latency. */
  fromCreatedAt: LatencySummary;
  counts: { expected: number; received: number; duplicates: number; lost: number; unexpected: number; afterRaiseError: number; otherEvents: number };
  subscriberErrors: number;
  reconnects: number;
  errorSamples: string[];
  /** Steady phase, per send second: percentiles of the deliveries of alerts sent in that second. */
  timeline: { t: number; count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null }[];
  cdf: [number, number][];
}

export interface TargetPlan {
  target: Target;
  urls: string[];
  subs: SubSpec[];
  departments: number;
  lastEventId?: string;
  rate: number;
  durationS: number;
  burstRounds: number;
  flood: number;
  clientProcs: number;
  /** Raises one alert; `title` carries the send time. */
  raise(seq: number, dept: number, title: string): Promise<CallResult>;
  onProgress?(p: { phase: string; raised: number; deliveries: number; errors: number }): void;
  /** Runs beside the steady phase (the API workload); its promise is awaited before bursts. */
  duringSteady?(): { stop(): Promise<void> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Children {
  readonly procs: ChildProcess[] = [];
  deliveries: number[] = [];
  errors: number[] = [];

  spawn(n: number): void {
    for (let i = 0; i < n; i++) {
      const proc = fork(`${ROOT}load-tests/harness/subscriber-proc.ts`, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.deliveries.push(0);
      this.errors.push(0);
      proc.on('message', (m) => {
        const msg = m as FromChild;
        if (msg.type === 'progress') {
          this.deliveries[i] = msg.deliveries;
          this.errors[i] = msg.errors;
        }
      });
      this.procs.push(proc);
    }
  }

  next<T extends FromChild['type']>(proc: ChildProcess, type: T): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: unknown) => {
        if ((m as FromChild).type !== type) return;
        proc.off('message', onMsg);
        proc.off('exit', onExit);
        resolve(m as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`subscriber process exited (${code}) while waiting for ${type}`));
      proc.on('message', onMsg);
      proc.once('exit', onExit);
    });
  }

  send(proc: ChildProcess, msg: ToChild): void {
    proc.send(msg);
  }

  get totalDeliveries(): number {
    return this.deliveries.reduce((a, b) => a + b, 0);
  }

  get totalErrors(): number {
    return this.errors.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.send({ type: 'close' } satisfies ToChild);
            setTimeout(() => p.kill('SIGKILL'), 5_000).unref();
          }),
      ),
    );
  }
}

export async function runTarget(plan: TargetPlan): Promise<TargetReport> {
  const kids = new Children();
  kids.spawn(Math.max(1, Math.min(plan.clientProcs, plan.subs.length)));
  const raised: { seq: number; dept: number; phase: Phase; sentAt: number }[] = [];
  const raiseErrors: Record<Phase, number> = { s: 0, b: 0, f: 0 };
  const failedRaises: { seq: number; dept: number }[] = [];
  let seq = 0;
  const audience = (dept: number) => plan.subs.filter((s) => s.dept === null || s.dept === dept).length;
  let expectedSoFar = 0;

  try {
    // Connect, each process its share of the subscribers.
    const t0 = Date.now();
    const shares = kids.procs.map((_, i) => plan.subs.filter((_, k) => k % kids.procs.length === i));
    const ready = kids.procs.map((p) => kids.next(p, 'ready'));
    kids.procs.forEach((p, i) => {
      kids.send(p, { type: 'init', target: plan.target, urls: plan.urls, subs: shares[i] as SubSpec[], lastEventId: plan.lastEventId, connectConcurrency: 25 });
    });
    const readies = await Promise.all(ready);
    const connected = readies.reduce((a, r) => a + r.connected, 0);
    const failed = readies.reduce((a, r) => a + r.failed, 0);
    const connectSeconds = (Date.now() - t0) / 1000;
    const progress = (phase: string) => plan.onProgress?.({ phase, raised: raised.length, deliveries: kids.totalDeliveries, errors: kids.totalErrors });
    const ticker = setInterval(() => progress('running'), 250);
    await sleep(1_000);

    const fire = async (phase: Phase, dept: number) => {
      const s = seq++;
      const sentAt = nowMs();
      const r = await plan.raise(s, dept, alertTitle(phase, s, sentAt));
      if (r.ok) {
        raised.push({ seq: s, dept, phase, sentAt });
        expectedSoFar += audience(dept);
      } else {
        // A raise that failed on the client (a timeout) may still have committed: its deliveries are
        // counted apart, neither expected nor "unexpected".
        failedRaises.push({ seq: s, dept });
        raiseErrors[phase]++;
      }
    };
    const drain = async (maxMs: number) => {
      const deadline = Date.now() + maxMs;
      let last = -1;
      let stableSince = Date.now();
      while (Date.now() < deadline && kids.totalDeliveries < expectedSoFar) {
        await sleep(100);
        if (kids.totalDeliveries !== last) {
          last = kids.totalDeliveries;
          stableSince = Date.now();
        } else if (Date.now() - stableSince > 10_000) break; // nothing arrived for 10 s: give up waiting
      }
    };

    // Steady: `rate` alerts per second, on a schedule (not waiting for answers), departments round robin.
    const side = plan.duringSteady?.();
    const inFlight = new Set<Promise<void>>();
    const steadyStart = Date.now();
    const total = Math.round(plan.rate * plan.durationS);
    for (let i = 0; i < total; i++) {
      const due = steadyStart + (i * 1000) / plan.rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (inFlight.size >= 500) await Promise.race(inFlight);
      const p = fire('s', i % plan.departments).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await side?.stop();
    await drain(60_000);

    // Bursts: one alert per department at the same instant, so every screen receives one at once.
    for (let r = 0; r < plan.burstRounds; r++) {
      await Promise.all(Array.from({ length: plan.departments }, (_, d) => fire('b', d)));
      await drain(10_000);
      await sleep(300);
    }

    // Flood: as fast as the target takes them (16 in flight), for delivery throughput.
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < plan.flood) await fire('f', next++ % plan.departments);
      }),
    );
    await drain(60_000);
    clearInterval(ticker);
    progress('collecting');

    // Count: each process checks its subscribers against the alerts actually raised.
    const list = raised.map(({ seq: s, dept }) => ({ seq: s, dept }));
    const results = await Promise.all(
      kids.procs.map((p) => {
        const r = kids.next(p, 'result');
        kids.send(p, { type: 'collect', alerts: list, failed: failedRaises });
        return r;
      }),
    );
    return summarise(plan, results.map((r) => r.result), raised, raiseErrors, { connected, failed, connectSeconds, readyErrors: readies.flatMap((r) => r.errorSamples) });
  } finally {
    await kids.close();
  }
}

function summarise(
  plan: TargetPlan,
  results: ChildResult[],
  raised: { seq: number; phase: Phase; sentAt: number }[],
  raiseErrors: Record<Phase, number>,
  c: { connected: number; failed: number; connectSeconds: number; readyErrors: string[] },
): TargetReport {
  const phase = (p: Phase): PhaseReport => {
    const h = new Histogram();
    for (const r of results) h.merge(r.latency[p]);
    const sent = raised.filter((a) => a.phase === p);
    const firstSend = Math.min(...sent.map((a) => a.sentAt));
    const lastReceive = Math.max(0, ...results.map((r) => r.lastReceive[p]));
    const durationS = sent.length && lastReceive > firstSend ? (lastReceive - firstSend) / 1000 : 0;
    return {
      raised: sent.length,
      raiseErrors: raiseErrors[p],
      deliveries: h.count,
      latency: h.summary(),
      throughputPerSec: durationS ? Math.round(h.count / durationS) : 0,
      durationS: Math.round(durationS * 100) / 100,
    };
  };
  const sum = (f: (r: ChildResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const seconds = new Map<number, Histogram>();
  for (const r of results) {
    for (const [s, sparse] of Object.entries(r.timeline)) {
      const h = seconds.get(Number(s)) ?? new Histogram();
      seconds.set(Number(s), h);
      h.merge(sparse);
    }
  }
  const start = Math.min(...seconds.keys());
  const all = new Histogram();
  for (const r of results) all.merge(r.latency.s);
  return {
    target: plan.target,
    subscribers: plan.subs.length,
    connected: c.connected,
    failedConnections: c.failed,
    connectSeconds: Math.round(c.connectSeconds * 10) / 10,
    steady: phase('s'),
    burst: phase('b'),
    flood: phase('f'),
    fromCreatedAt: (() => {
      const h = new Histogram();
      for (const r of results) h.merge(r.fromCreatedAt);
      return h.summary();
    })(),
    counts: {
      expected: sum((r) => r.expected),
      received: sum((r) => r.received),
      duplicates: sum((r) => r.duplicates),
      lost: sum((r) => r.lost),
      unexpected: sum((r) => r.unexpected),
      afterRaiseError: sum((r) => r.afterRaiseError),
      otherEvents: sum((r) => r.otherEvents),
    },
    subscriberErrors: sum((r) => r.errors),
    reconnects: sum((r) => r.reconnects),
    errorSamples: [...c.readyErrors, ...results.flatMap((r) => r.errorSamples)].slice(0, 10),
    timeline: [...seconds.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, h]) => {
        const x = h.summary();
        return { t: s - start, count: x.count, p50: x.p50, p95: x.p95, p99: x.p99, max: x.max };
      }),
    cdf: all.cdf(),
  };
}
