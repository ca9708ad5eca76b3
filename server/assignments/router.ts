import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import { currentAssignmentsInput, currentAssignmentsOutput, setAssignmentsInput } from './schemas.js';
import { listCurrent, setAssignments } from './service.js';

export const assignmentsRouter = router({
  /** The charge nurse's screen and the console: any signed-in user of the hospital. */
  current: protectedProcedure
    .input(currentAssignmentsInput)
    .output(currentAssignmentsOutput)
    .query(({ ctx, input }) => listCurrent(ctx.deps.db, ctx.auth.user.hospitalId, input.departmentId)),

  /** Nurses: only as the department's current charge nurse (checkPermission); head doctors and admins: any department. */
  set: permissionProcedure('assignment.manage')
    .input(setAssignmentsInput)
    .output(currentAssignmentsOutput)
    .mutation(({ ctx, input }) => setAssignments(ctx.deps, ctx.auth.user, auditContextOf(ctx), input)),
});
