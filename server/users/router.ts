import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import { bulkCreateUsers } from './bulk.js';
import { listDirectory } from './directory.js';
import { deactivateUser, reactivateUser, updateUserRole } from './lifecycle.js';
import {
  bulkCreateInput,
  bulkCreateOutput,
  createUserInput,
  createUserOutput,
  directoryInput,
  directoryOutput,
  getAllUsersInput,
  getAllUsersOutput,
  unlockUserInput,
  unlockUserOutput,
  updateRoleInput,
  updateUserInput,
  userIdInput,
  userSchema,
} from './schemas.js';
import { createUser, getUser, listUsers, updateUser } from './service.js';
import type { Caller } from './shared.js';
import { unlockUser } from './unlock.js';

const admin = permissionProcedure('user.manage');

type AuthedCtx = Parameters<typeof auditContextOf>[0] & { auth: { user: Caller['actor'] } };
const callerOf = (ctx: AuthedCtx): Caller => ({ actor: ctx.auth.user, audit: auditContextOf(ctx) });

export const usersRouter = router({
  getAll: admin
    .input(getAllUsersInput)
    .output(getAllUsersOutput)
    .query(({ ctx, input }) => listUsers(ctx.deps.db, ctx.auth.user.hospitalId, input)),

  /** Colleagues' names, roles and departments for pickers: any signed-in user of the hospital. */
  directory: protectedProcedure
    .input(directoryInput)
    .output(directoryOutput)
    .query(({ ctx, input }) => listDirectory(ctx.deps.db, ctx.auth.user.hospitalId, input)),

  // Admins, or anyone reading their own record: the rule needs the id, so it lives in the service.
  getById: protectedProcedure
    .input(userIdInput)
    .output(userSchema)
    .query(({ ctx, input }) => getUser(ctx.deps, callerOf(ctx), input.id)),

  create: admin
    .input(createUserInput)
    .output(createUserOutput)
    .mutation(({ ctx, input }) => createUser(ctx.deps, callerOf(ctx), input)),

  bulkCreate: admin
    .input(bulkCreateInput)
    .output(bulkCreateOutput)
    .mutation(({ ctx, input }) => bulkCreateUsers(ctx.deps, callerOf(ctx), input)),

  update: admin
    .input(updateUserInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => updateUser(ctx.deps, callerOf(ctx), input)),

  deactivate: admin
    .input(userIdInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => deactivateUser(ctx.deps, callerOf(ctx), input.id)),

  reactivate: admin
    .input(userIdInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => reactivateUser(ctx.deps, callerOf(ctx), input.id)),

  updateRole: admin
    .input(updateRoleInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => updateUserRole(ctx.deps, callerOf(ctx), input)),

  unlock: permissionProcedure('user.unlock')
    .input(unlockUserInput)
    .output(unlockUserOutput)
    .mutation(({ ctx, input }) => unlockUser(ctx.deps, callerOf(ctx), input.userId)),
});
