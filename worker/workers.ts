import { Queue, Worker } from 'bullmq';
import type { AppDeps } from '../server/deps.js';
import { createBlockingRedis, redisKey } from '../server/redis.js';

export interface RunningWorkers {
  queueNames: string[];
  close(): Promise<void>;
}

const HEARTBEAT_TTL_SECONDS = 30;

/** Starts the queues' workers and a heartbeat key that /readyz and the health check can read. */
export async function startWorkers(deps: AppDeps): Promise<RunningWorkers> {
  const connection = createBlockingRedis(deps.config.redis, 'clarion-worker');
  const prefix = redisKey(deps.config.redis, 'bull');
  const maintenance = new Queue('maintenance', { connection, prefix });
  const worker = new Worker(
    'maintenance',
    async (job) => {
      deps.log.info({ jobId: job.id, name: job.name, attempt: job.attemptsMade + 1 }, 'maintenance job');
    },
    { connection, prefix, concurrency: 1 },
  );
  const beat = async () => {
    await deps.redis.set(redisKey(deps.config.redis, 'worker', 'heartbeat'), new Date().toISOString(), 'EX', HEARTBEAT_TTL_SECONDS).catch(() => undefined);
  };
  await beat();
  const timer = setInterval(beat, 10_000);
  return {
    queueNames: ['maintenance'],
    async close() {
      clearInterval(timer);
      await worker.close();
      await maintenance.close();
      connection.disconnect();
    },
  };
}
