import { z } from 'zod';
import { publicProcedure, router } from '../trpc/trpc.js';
import { checkReadiness } from './service.js';

export const healthRouter = router({
  check: publicProcedure
    .output(z.object({ status: z.enum(['ok', 'degraded']), time: z.string() }))
    .query(async ({ ctx }) => {
      const ready = await checkReadiness(ctx.deps);
      return { status: ready.status === 'ok' ? 'ok' : 'degraded', time: new Date().toISOString() };
    }),
});
