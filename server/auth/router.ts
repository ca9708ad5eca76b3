import { router } from '../trpc/trpc.js';

export const authRouter = router({});
