import { z } from 'zod';
import { auditContextOf } from '../trpc/context.js';
import { permissionProcedure, protectedProcedure, router } from '../trpc/trpc.js';
import {
  addOverrideInput,
  createScheduleInput,
  onCallInput,
  onCallOutput,
  overrideSchema,
  removeOverrideInput,
  scheduleSchema,
  timelineInput,
  timelineOutput,
  updateScheduleInput,
} from './schemas.js';
import { getOnCall, getTimeline, listSchedules } from './service.js';
import { addOverride, createSchedule, removeOverride, updateSchedule } from './write.js';

const idOutput = z.object({ id: z.string() });

export const schedulesRouter = router({
  /** Every schedule of the hospital, with who is on call now: any signed-in user. */
  list: protectedProcedure.output(z.array(scheduleSchema)).query(({ ctx }) => listSchedules(ctx.deps.db, ctx.auth.user.hospitalId, ctx.deps.config.defaultTimezone)),

  onCall: protectedProcedure
    .input(onCallInput)
    .output(onCallOutput)
    .query(({ ctx, input }) => getOnCall(ctx.deps.db, ctx.auth.user.hospitalId, ctx.deps.config.defaultTimezone, input)),

  /** Segments covering [from, to) (at most 62 days); nobody on call is a segment with userId null. */
  timeline: protectedProcedure
    .input(timelineInput)
    .output(timelineOutput)
    .query(({ ctx, input }) => getTimeline(ctx.deps.db, ctx.auth.user.hospitalId, ctx.deps.config.defaultTimezone, input)),

  create: permissionProcedure('schedule.manage')
    .input(createScheduleInput)
    .output(idOutput)
    .mutation(({ ctx, input }) => createSchedule(ctx.deps, auditContextOf(ctx), ctx.auth.user, input)),

  update: permissionProcedure('schedule.manage')
    .input(updateScheduleInput)
    .output(idOutput)
    .mutation(({ ctx, input }) => updateSchedule(ctx.deps, auditContextOf(ctx), ctx.auth.user, input)),

  /** schedule.manage: anyone; schedule.coverSelf: only the caller (write.ts checks). */
  addOverride: permissionProcedure('schedule.coverSelf')
    .input(addOverrideInput)
    .output(overrideSchema)
    .mutation(({ ctx, input }) => addOverride(ctx.deps, auditContextOf(ctx), ctx.auth.user, input)),

  /** schedule.manage: any override; schedule.coverSelf: one's own or one one created. */
  removeOverride: permissionProcedure('schedule.coverSelf')
    .input(removeOverrideInput)
    .output(z.object({ id: z.string(), removed: z.enum(['deleted', 'ended']) }))
    .mutation(({ ctx, input }) => removeOverride(ctx.deps, auditContextOf(ctx), ctx.auth.user, input.overrideId)),
});
