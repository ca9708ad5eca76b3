import { router } from '../trpc/trpc.js';

export const hospitalsRouter = router({});
