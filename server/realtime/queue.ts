/**
 * A bounded single-consumer queue feeding one subscription. Overflow does not grow memory: it fails
 * the queue, and the subscription ends so the client reconnects and replays from Postgres.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private waiter: ((v: IteratorResult<T>) => void) | undefined;
  private failure: unknown;
  private closed = false;

  constructor(private readonly limit: number) {}

  push(item: T): void {
    if (this.closed || this.failure) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.limit) {
      this.fail(new QueueOverflowError(this.limit));
      return;
    }
    this.items.push(item);
  }

  fail(err: unknown): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.items = [];
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Takes everything waiting (in order), leaving the queue empty. */
  drain(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  get size(): number {
    return this.items.length;
  }

  /** Failed (overflow, or ended by the hub) or closed (the client went away): nothing more will be consumed. */
  get settled(): boolean {
    return this.closed || this.failure !== undefined;
  }

  /** Rethrows the failure, if any, so a producer that stopped waiting reports why. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.failure) throw this.failure;
    const item = this.items.shift();
    if (item !== undefined) return { value: item, done: false };
    if (this.closed) return { value: undefined, done: true };
    const result = await new Promise<IteratorResult<T>>((resolve) => {
      this.waiter = resolve;
    });
    if (this.failure) throw this.failure;
    return result;
  }
}

export class QueueOverflowError extends Error {
  constructor(limit: number) {
    super(`subscriber fell more than ${limit} events behind`);
    this.name = 'QueueOverflowError';
  }
}
