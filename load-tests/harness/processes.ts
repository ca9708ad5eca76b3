import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const ROOT = new URL('../../', import.meta.url).pathname;
const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface Child {
  name: string;
  proc: ChildProcess;
  port: number;
  url: string;
  /** Last lines of its output, for a useful error when it dies. */
  tail: string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs a TypeScript entry point with Node itself (not through npx), so the child's pid is the
 * process whose CPU and memory we sample.
 */
export function spawnTs(name: string, entry: string, env: Record<string, string>, port: number, nodeArgs: string[] = [], cwd = ROOT): Child {
  return spawnNode(name, [...nodeArgs, '--import', 'tsx', entry], env, port, cwd);
}

/**
 * Runs Clarion's server or worker: from dist/ (compiled, as production runs it; see build.ts) or, with
 * `mode: 'tsx'`, from the TypeScript sources.
 */
export function spawnClarion(name: string, program: 'server' | 'worker', mode: 'dist' | 'tsx', env: Record<string, string>, port: number, nodeArgs: string[] = [], cwd = ROOT): Child {
  if (mode === 'tsx') return spawnTs(name, `${program}/main.ts`, env, port, nodeArgs, cwd);
  return spawnNode(name, [...nodeArgs, `dist/${program}/main.js`], env, port, cwd);
}

function spawnNode(name: string, args: string[], env: Record<string, string>, port: number, cwd: string): Child {
  const proc = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) if (line.trim()) tail.push(line.slice(0, 500));
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  // Every child's whole output goes to reports/logs/<name>.log (warnings and errors at the harness's level).
  mkdirSync(`${ROOT}reports/logs`, { recursive: true });
  const file = createWriteStream(`${ROOT}reports/logs/${name}.log`);
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.stdout?.pipe(file);
  proc.stderr?.pipe(file);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    name,
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    tail,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200, or fails with the child's last output. */
export async function waitHttp(child: Child, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited (${child.proc.exitCode}):\n${child.tail.join('\n')}`);
    try {
      const res = await fetch(`${child.url}${path}`);
      if (res.ok) return;
      last = `${res.status} ${(await res.text()).slice(0, 300)}`;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} did not become ready (${last || 'no answer'}):\n${child.tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ProcSample {
  t: number;
  rssMb: number;
  cpuPct: number;
}

export interface ProcStats {
  name: string;
  pid: number;
  samples: ProcSample[];
  peakRssMb: number;
  meanCpuPct: number;
  peakCpuPct: number;
}

function readTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

function readRssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples RSS and CPU of the given processes once a second from /proc. */
export class ProcSampler {
  private readonly stats = new Map<number, ProcStats & { lastTicks: number; lastT: number }>();
  private timer: NodeJS.Timeout | undefined;

  watch(name: string, pid: number): void {
    this.stats.set(pid, { name, pid, samples: [], peakRssMb: 0, meanCpuPct: 0, peakCpuPct: 0, lastTicks: readTicks(pid) ?? 0, lastT: Date.now() });
  }

  start(t0: number): void {
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const s of this.stats.values()) {
        const ticks = readTicks(s.pid);
        const rss = readRssMb(s.pid);
        if (ticks === null || rss === null) continue;
        const cpuPct = ((ticks - s.lastTicks) / CLOCK_TICKS / ((now - s.lastT) / 1000)) * 100;
        s.lastTicks = ticks;
        s.lastT = now;
        s.samples.push({ t: (now - t0) / 1000, rssMb: Math.round(rss * 10) / 10, cpuPct: Math.round(cpuPct) });
      }
    }, 1_000);
    this.timer.unref();
  }

  /** Current figures, for the progress line. */
  latest(): { name: string; rssMb: number; cpuPct: number }[] {
    return [...this.stats.values()].map((s) => ({ name: s.name, rssMb: s.samples.at(-1)?.rssMb ?? 0, cpuPct: s.samples.at(-1)?.cpuPct ?? 0 }));
  }

  stop(): ProcStats[] {
    if (this.timer) clearInterval(this.timer);
    return [...this.stats.values()].map(({ lastTicks: _a, lastT: _b, ...s }) => {
      const cpu = s.samples.map((x) => x.cpuPct);
      return {
        ...s,
        peakRssMb: Math.max(0, ...s.samples.map((x) => x.rssMb)),
        meanCpuPct: cpu.length ? Math.round(cpu.reduce((a, b) => a + b, 0) / cpu.length) : 0,
        peakCpuPct: Math.max(0, ...cpu),
      };
    });
  }
}
