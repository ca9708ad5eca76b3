import { router } from '../trpc/trpc.js';

export const auditRouter = router({});
