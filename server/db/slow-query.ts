import type pg from 'pg';

/**
 * A timing hook on the Postgres pool: every query a pooled client runs is timed; those slower than the
 * threshold are logged with their SQL text (truncated) and prepared-statement name — NEVER the
 * parameter values, which may hold patient or credential data — and every query is reported to
 * `onQuery` so the caller can count and histogram them (/metrics).
 *
 * Call it before the pool hands out its first client: it wraps clients as they connect.
 */
export interface SlowQueryOptions {
  thresholdMs: number;
  log: { warn: (obj: object, msg: string) => void };
  /** Called for every query with its duration and whether it crossed the threshold. */
  onQuery?: (ms: number, slow: boolean) => void;
  /** SQL longer than this is cut (default 500 characters). */
  maxSqlLength?: number;
}

const WRAPPED = Symbol('clarion.slowQuery');
type QueryFn = (...args: unknown[]) => unknown;
type Callback = (err: Error | null, res: unknown) => void;

export function instrumentPool(pool: pg.Pool, opts: SlowQueryOptions): void {
  pool.on('connect', (client) => instrumentClient(client, opts));
}

/** One line, whitespace collapsed, cut to `max` characters: the statement's shape only. */
export function sqlSummary(text: string, max = 500): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function describe(config: unknown): { text: string; name?: string } {
  if (typeof config === 'string') return { text: config };
  if (config && typeof config === 'object') {
    const c = config as { text?: unknown; name?: unknown };
    return { text: typeof c.text === 'string' ? c.text : '', ...(typeof c.name === 'string' ? { name: c.name } : {}) };
  }
  return { text: '' };
}

export function instrumentClient(client: pg.ClientBase, opts: SlowQueryOptions): void {
  const target = client as unknown as { query: QueryFn; [WRAPPED]?: true };
  if (target[WRAPPED]) return;
  target[WRAPPED] = true;
  const original = target.query;
  const max = opts.maxSqlLength ?? 500;

  target.query = function timedQuery(this: unknown, ...args: unknown[]) {
    const config = args[0];
    // Streams (cursors, COPY) are "submittables": pg returns them at once and they run as long as the
    // consumer reads, so their duration says nothing about the query. They pass through untimed.
    if (config && typeof config === 'object' && typeof (config as { submit?: unknown }).submit === 'function') {
      return original.apply(this, args);
    }
    const start = performance.now();
    let reported = false;
    const done = () => {
      if (reported) return;
      reported = true;
      const ms = performance.now() - start;
      const slow = ms >= opts.thresholdMs;
      try {
        opts.onQuery?.(ms, slow);
        if (slow) {
          const { text, name } = describe(config);
          // Only the text and the statement name: values are never read, so they can never be logged.
          opts.log.warn({ durationMs: Math.round(ms * 10) / 10, sql: sqlSummary(text, max), ...(name ? { statement: name } : {}) }, 'slow query');
        }
      } catch {
        // Instrumentation must never break a query.
      }
    };

    // Callback forms: query(text, cb), query(text, values, cb), query({ …, callback }). pg's Pool.query
    // uses the callback form on the client internally; drizzle and direct client users use promises.
    const last = args.length - 1;
    if (last > 0 && typeof args[last] === 'function') {
      const cb = args[last] as Callback;
      const wrapped = [...args];
      wrapped[last] = (err: Error | null, res: unknown) => {
        done();
        cb(err, res);
      };
      return original.apply(this, wrapped);
    }
    if (config && typeof config === 'object' && typeof (config as { callback?: unknown }).callback === 'function') {
      const cb = (config as { callback: Callback }).callback;
      const copy = {
        ...(config as object),
        callback: (err: Error | null, res: unknown) => {
          done();
          cb(err, res);
        },
      };
      return original.apply(this, [copy, ...args.slice(1)]);
    }

    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      // A second, handled branch: it observes the outcome without changing what the caller gets.
      (result as Promise<unknown>).then(done, done);
    } else {
      done();
    }
    return result;
  };
}
