/** One item's outcome in a batch: each item succeeds or fails on its own. */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Natural batching (group commit): at most one batch in flight. An item submitted while idle goes at
 * once, alone, so an idle system adds no latency; items submitted while a batch is in flight wait for
 * it and then go together as the next batch (at most `max`). A caller is answered only when its batch's
 * write has returned, i.e. after the batch's statement committed.
 */
export class Batcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private busy = false;

  constructor(
    private readonly write: (items: I[]) => Promise<Outcome<O>[]>,
    private readonly max = 50,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.max);
        let outcomes: Outcome<O>[];
        try {
          outcomes = await this.write(batch.map((p) => p.item));
        } catch (error) {
          // The statement itself failed (nothing committed): every caller of the batch gets the error.
          outcomes = batch.map(() => ({ ok: false, error }));
        }
        batch.forEach((p, i) => {
          const o = outcomes[i] ?? { ok: false, error: new Error('batch write returned too few outcomes') };
          if (o.ok) p.resolve(o.value);
          else p.reject(o.error);
        });
      }
    } finally {
      this.busy = false;
    }
  }
}
