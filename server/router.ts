import { accountsRouter } from './accounts/router.js';
import { alertsRouter } from './alerts/router.js';
import { assignmentsRouter } from './assignments/router.js';
import { auditRouter } from './audit/router.js';
import { authRouter } from './auth/router.js';
import { healthRouter } from './health/router.js';
import { hospitalsRouter } from './hospitals/router.js';
import { integrationsRouter } from './integrations/router.js';
import { notificationsRouter } from './notifications/router.js';
import { schedulesRouter } from './schedules/router.js';
import { suppressionsRouter } from './suppressions/router.js';
import { router } from './trpc/trpc.js';
import { usersRouter } from './users/router.js';

export const appRouter = router({
  health: healthRouter,
  auth: authRouter,
  users: usersRouter,
  hospitals: hospitalsRouter,
  audit: auditRouter,
  alerts: alertsRouter,
  accounts: accountsRouter,
  schedules: schedulesRouter,
  assignments: assignmentsRouter,
  notifications: notificationsRouter,
  integrations: integrationsRouter,
  suppressions: suppressionsRouter,
});

export type AppRouter = typeof appRouter;
