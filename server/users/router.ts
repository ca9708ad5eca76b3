import { router } from '../trpc/trpc.js';

export const usersRouter = router({});
