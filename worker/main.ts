// The worker process: BullMQ queues for escalation timers, expiry, exports and maintenance.
import { ConfigError, loadConfig } from '../server/config.js';
import { closeDeps, createDeps } from '../server/deps.js';
import { createLogger } from '../server/logger.js';
import { startWorkers } from './workers.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config).child({ process: 'worker' });
  const deps = createDeps(config, log);
  let running: Awaited<ReturnType<typeof startWorkers>> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker shutting down: finishing active jobs');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    await running?.close();
    await closeDeps(deps);
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Handlers first: a SIGTERM during start-up still shuts down cleanly.
  running = await startWorkers(deps);
  if (stopping) await running.close();
  else log.info({ queues: running.queueNames }, 'worker started');
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`worker failed to start: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
