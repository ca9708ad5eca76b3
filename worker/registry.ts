import type { z } from 'zod';
import type { AppDeps } from '../server/deps.js';
import type { queueNames } from '../server/jobs/queues.js';
import type { Logger } from '../server/logger.js';

export type QueueKey = keyof typeof queueNames;

/** One job type: its queue, name, payload schema and an idempotent processor. */
export interface Processor<S extends z.ZodType> {
  queue: QueueKey;
  name: string;
  schema: S;
  run(deps: AppDeps, payload: z.infer<S>, log: Logger): Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds processors of every payload type
export type AnyProcessor = Processor<any>;
