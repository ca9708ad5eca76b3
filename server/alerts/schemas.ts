import { z } from 'zod';
import { zId, zIso, zText } from '../common/schemas.js';
import { alertEventTypes, alertStatuses, attemptStatuses, hospitalCodes, escalationReasons, notificationChannels, pageResponses, priorities } from '../db/enums.js';
import { targetKinds } from '../hospitals/settings.js';

export const zPriority = z.enum(priorities);
export const zAlertStatus = z.enum(alertStatuses);

/** An alert as every client sees it: in answers, and as the `alert` of every event. */
export const responderSchema = z.object({ userId: z.string(), name: z.string(), role: z.string(), respondedAt: zIso });
export type Responder = z.infer<typeof responderSchema>;

export const alertSchema = z.object({
  id: z.string(),
  hospitalId: z.string(),
  departmentId: z.string(),
  departmentCode: z.string(),
  departmentName: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  priority: zPriority,
  alertType: z.string(),
  roomNumber: z.string().nullable(),
  status: zAlertStatus,
  escalationLevel: z.number().int(),
  version: z.number().int(),
  repeatCount: z.number().int(),
  nextEscalationAt: zIso.nullable(),
  ackDeadlineAt: zIso.nullable(),
  createdBy: z.string().nullable(),
  createdByName: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedByName: z.string().nullable(),
  acknowledgedAt: zIso.nullable(),
  resolvedBy: z.string().nullable(),
  resolvedByName: z.string().nullable(),
  resolvedAt: zIso.nullable(),
  cancelledBy: z.string().nullable(),
  cancelledAt: zIso.nullable(),
  createdAt: zIso,
  updatedAt: zIso,
  expiresAt: zIso.nullable(),
  /** 'console', 'api:<key name>', 'hl7:<source>', 'fhir'; events recorded before sources existed read as 'console'. */
  source: z.string().default('console'),
  /** The sending system's own id (an HL7 alarm id), null for alerts raised in Clarion. */
  externalId: z.string().nullable().default(null),
  /** Shelved (status `shelved`): back to active at this time (alarm issue); events from before read as null. */
  shelvedUntil: zIso.nullable().default(null),
  shelvedBy: z.string().nullable().default(null),
  shelvedByName: z.string().nullable().default(null),
  shelveReason: z.string().nullable().default(null),
  /** A hospital code (Code Blue, Fire…), null for an ordinary alert. */
  code: z.enum(hospitalCodes).nullable().default(null),
  /** The suppression window that kept it quiet (status `suppressed`). */
  suppressionId: z.string().nullable().default(null),
  /** Who pressed Responding on a code, first first. */
  responders: z.array(responderSchema).default([]),
});
export type Alert = z.infer<typeof alertSchema>;

/** The event as alerts.onEvent delivers it (DESIGN.md): `tracked(id, { id, type, alert, actorId, occurredAt })`. */
export const alertEventSchema = z.object({
  id: z.string(),
  type: z.enum(alertEventTypes),
  alert: alertSchema,
  actorId: z.string().nullable(),
  occurredAt: zIso,
  /** Type-specific: `{ reason }` for declined, `{ repeatCount }` for repeated, `{ reason }` for escalated. */
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type AlertEvent = z.infer<typeof alertEventSchema>;

export const escalationSchema = z.object({
  id: z.string(),
  fromLevel: z.number().int(),
  toLevel: z.number().int(),
  reason: z.enum(escalationReasons),
  escalatedBy: z.string().nullable(),
  escalatedAt: zIso,
});

const alertType = z
  .string()
  .trim()
  .min(1, 'Required')
  .max(40)
  .regex(/^[a-z][a-z0-9_-]*$/i, 'Letters, digits, - and _ only');

export const createAlertInput = z.object({
  title: zText(200).pipe(z.string().min(1, 'Required')),
  description: zText(2_000).optional(),
  priority: zPriority,
  alertType,
  departmentId: zId,
  roomNumber: zText(40).optional(),
  expiresAt: zIso
    .optional()
    .refine((v) => v === undefined || Date.parse(v) > Date.now(), 'Must be in the future')
    .refine((v) => v === undefined || Date.parse(v) < Date.now() + 7 * 86_400_000, 'Must be within 7 days'),
});
export type CreateAlertInput = z.infer<typeof createAlertInput>;

export const alertIdInput = z.object({ alertId: zId });
export const updateAlertInput = z
  .object({
    alertId: zId,
    title: zText(200).pipe(z.string().min(1, 'Required')).optional(),
    description: zText(2_000).nullable().optional(),
    roomNumber: zText(40).nullable().optional(),
    priority: zPriority.optional(),
  })
  .refine((v) => v.title !== undefined || v.description !== undefined || v.roomNumber !== undefined || v.priority !== undefined, {
    message: 'Change at least one field',
    path: ['title'],
  });
export type UpdateAlertInput = z.infer<typeof updateAlertInput>;

/** What nurses say most often, one tap each (the board, and the response page a text message links to). */
export const DECLINE_PRESETS = ['With another critical patient', 'In theatre or a procedure', 'Off the ward', 'Needs a doctor, not a nurse'] as const;

export const declineInput = z.object({ alertId: zId, reason: zText(500).pipe(z.string().min(3, 'Say why (at least 3 characters)')) });

export const createAlertOutput = alertSchema.extend({
  /** True when the same open emergency absorbed this raise (its repeat count was raised instead). */
  deduplicated: z.boolean(),
  /** The open alert's priority before this more urgent repeat raised it; null when nothing was raised. */
  priorityRaisedFrom: zPriority.nullable(),
});
export type CreatedAlert = z.infer<typeof createAlertOutput>;

export const reportReceiptsInput = z.object({
  receipts: z.array(z.object({ alertId: zId, kind: z.enum(['delivered', 'seen']) })).min(1).max(200),
});
export const receiptSchema = z.object({ userId: z.string(), userName: z.string(), sessionId: z.string(), deliveredAt: zIso, seenAt: zIso.nullable() });
export const receiptSummaryInput = z.object({ alertIds: z.array(zId).min(1).max(100) });
export const receiptSummaryOutput = z.array(
  z.object({ alertId: z.string(), deliveredScreens: z.number().int(), departmentScreens: z.number().int(), seenBy: z.array(z.string()), acknowledgedBy: z.string().nullable() }),
);

export const listAlertsInput = z.object({
  status: z.array(zAlertStatus).max(4).optional(),
  priority: z.array(zPriority).max(4).optional(),
  departmentId: zId.optional(),
  from: zIso.optional(),
  to: zIso.optional(),
  /** Words in the title, room or description (case-insensitive): the console's history search. */
  search: zText(100).optional(),
  /** newest first (the default) or oldest first; the cursor pages on in the same order. */
  order: z.enum(['newest', 'oldest']).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(100).default(25),
});
export type ListAlertsInput = z.infer<typeof listAlertsInput>;

export const lastEventIdSchema = z.string().regex(/^\d{1,18}$/, 'A decimal event id');
export const onEventInput = z.object({ lastEventId: lastEventIdSchema.optional() }).optional();

export const getActiveOutput = z.object({ alerts: z.array(alertSchema), lastEventId: z.string() });
/** One person paged for one level (people issue): why they were chosen, and what became of it. */
/** One try to reach a paged person on one channel; no address (contacts are their owner's). */
export const pageAttemptSchema = z.object({
  channel: z.enum(notificationChannels),
  step: z.number().int(),
  status: z.enum(attemptStatuses),
  dueAt: zIso,
  sentAt: zIso.nullable(),
  deliveredAt: zIso.nullable(),
  answeredAt: zIso.nullable(),
  answer: z.enum(pageResponses).nullable(),
  error: z.string().nullable(),
});
export type PageAttempt = z.infer<typeof pageAttemptSchema>;

export const pageSchema = z.object({
  userId: z.string(),
  userName: z.string(),
  level: z.number().int(),
  /** The target kind that found them: assigned, charge, department, schedule, role, user. */
  target: z.enum(targetKinds),
  /** The console's words for why: "assigned, room 312", "on call: Head doctors". */
  reason: z.string(),
  pagedAt: zIso,
  deliveredAt: zIso.nullable(),
  readAt: zIso.nullable(),
  respondedAt: zIso.nullable(),
  response: z.enum(pageResponses).nullable(),
  /** alerts.getById only: each message sent to reach this person (the channels issue's outbox), in step order. */
  attempts: z.array(pageAttemptSchema).optional(),
});
export type Page = z.infer<typeof pageSchema>;

export const getByIdOutput = z.object({
  alert: alertSchema,
  events: z.array(alertEventSchema),
  escalations: z.array(escalationSchema),
  receipts: z.array(receiptSchema),
  pages: z.array(pageSchema),
});

/** My alerts: the open alerts paged to me, each with my latest page, and the event id they are current to. */
export const myPagesOutput = z.object({
  items: z.array(z.object({ alert: alertSchema, page: pageSchema })),
  lastEventId: z.string(),
});
export const listOutput = z.object({ alerts: z.array(alertSchema), nextCursor: z.string().nullable() });

/** alerts.shelve (alarm issue): minutes capped per priority by settings.maxShelveMinutes (checked by the service). */
export const shelveInput = z.strictObject({
  alertId: zId,
  minutes: z.number().int('Whole minutes').min(1, 'At least 1 minute').max(1_440, 'At most 24 hours'),
  /** The next shift reads it: "patient repositioning, leads off". */
  reason: zText(500).pipe(z.string().min(1, 'Say why')),
});
export type ShelveInput = z.infer<typeof shelveInput>;

/** alerts.raiseCode: a hospital code in a department (and room). */
export const raiseCodeInput = z.strictObject({
  code: z.enum(hospitalCodes),
  departmentId: zId,
  roomNumber: zText(40).optional(),
});
export type RaiseCodeInput = z.infer<typeof raiseCodeInput>;
