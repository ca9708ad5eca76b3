/**
 * Caps the alert-changing transactions one process runs at once. Changes of one hospital queue on
 * its lock anyway; letting them all hold pooled connections while they wait would starve the reads
 * (boards loading, fan-out, sign-ins) of connections. Waiting here costs nothing but memory.
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const gates = new WeakMap<object, Gate>();

/** One gate per database handle (so per pool), at half the pool. */
export function writeGate(db: object, poolMax: number): Gate {
  let gate = gates.get(db);
  if (!gate) {
    gate = new Gate(Math.max(2, Math.floor(poolMax / 2)));
    gates.set(db, gate);
  }
  return gate;
}
