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

/**
 * Runs the calls of one key one after another, calls of different keys freely. Changes of one alert
 * are optimistic (a row that moved on between the read and the statement is read again): without this,
 * n concurrent changes of one alert on one instance would cost n² reads and statements, the losers
 * blocking on the row lock only to be refused. Across instances the retry still decides.
 */
export class PerKey {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(fn, fn) : fn();
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // The last call of a key removes its entry, so the map holds only keys with calls in flight.
    tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

const perAlert = new WeakMap<object, PerKey>();

/** One queue per database handle (so per pool, like the gate). */
export function alertQueue(db: object): PerKey {
  let queue = perAlert.get(db);
  if (!queue) {
    queue = new PerKey();
    perAlert.set(db, queue);
  }
  return queue;
}
