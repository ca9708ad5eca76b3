import { z } from 'zod';
import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import {
  createDepartmentInput,
  departmentSchema,
  hospitalSchema,
  updateDepartmentInput,
  updateSettingsInput,
  updateSettingsOutput,
} from './schemas.js';
import { getPresence } from './presence.js';
import { createDepartment, getHospital, listDepartments, updateDepartment, updateSettings } from './service.js';

// hospitals.getPresence arrives with the clinical-safety issue.
export const hospitalsRouter = router({
  getCurrent: protectedProcedure.output(hospitalSchema).query(({ ctx }) => getHospital(ctx.deps.db, ctx.auth.user.hospitalId, ctx.deps.config.defaultTimezone)),

  getDepartments: protectedProcedure.output(z.array(departmentSchema)).query(({ ctx }) => listDepartments(ctx.deps.db, ctx.auth.user.hospitalId)),

  getPresence: permissionProcedure('presence.view')
    .output(z.object({ known: z.boolean(), departments: z.array(z.object({ departmentId: z.string(), screensOnline: z.number().int() })) }))
    .query(({ ctx }) => getPresence(ctx.deps, ctx.auth.user.hospitalId)),

  updateSettings: permissionProcedure('settings.manage')
    .input(updateSettingsInput)
    .output(updateSettingsOutput)
    .mutation(({ ctx, input }) => updateSettings(ctx.deps, auditContextOf(ctx), ctx.auth.user.hospitalId, input)),

  createDepartment: permissionProcedure('department.manage')
    .input(createDepartmentInput)
    .output(departmentSchema)
    .mutation(({ ctx, input }) => createDepartment(ctx.deps, auditContextOf(ctx), ctx.auth.user.hospitalId, input)),

  updateDepartment: permissionProcedure('department.manage')
    .input(updateDepartmentInput)
    .output(departmentSchema)
    .mutation(({ ctx, input }) => updateDepartment(ctx.deps, auditContextOf(ctx), ctx.auth.user.hospitalId, input)),
});
