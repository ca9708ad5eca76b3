import type { Logger } from '../server/logger.js';

export interface Loop {
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs `fn` at once and then `intervalMs` after each run ends, on this process's own timer (not a
 * Redis-backed job, so it keeps running through a Redis outage). Runs never overlap; a failed run
 * is logged and the next one comes on schedule.
 */
export function startLoop(name: string, intervalMs: number, log: Logger, fn: () => Promise<unknown>): Loop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  const tick = () => {
    current = fn()
      .then(
        () => undefined,
        (err) => log.warn({ err: err instanceof Error ? err.message : String(err), loop: name }, 'periodic run failed; retrying on the next tick'),
      )
      .finally(() => {
        current = undefined;
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
