import { router } from '../trpc/trpc.js';

export const alertsRouter = router({});
