import { healthRouter } from './health/router.js';
import { router } from './trpc/trpc.js';

export const appRouter = router({
  health: healthRouter,
});

export type AppRouter = typeof appRouter;
