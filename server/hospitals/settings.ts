import { z } from 'zod';
import { isValidTimezone } from '../common/timezone.js';
import { hospitalCodes, priorities, roles } from '../db/enums.js';
import { rulesSchema } from '../notifications/schemas.js';

/**
 * Who a level of escalation pages (DESIGN.md, "People, not only screens"). Resolved to people at the
 * moment the alert reaches the level: the nurse assigned to the room, the charge nurse, the
 * department's clinicians, whoever a schedule has on call, everyone with a role, or one named user.
 */
export const escalationTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('assigned') }),
  z.strictObject({ kind: z.literal('charge') }),
  z.strictObject({ kind: z.literal('department') }),
  z.strictObject({ kind: z.literal('schedule'), scheduleId: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('role'), role: z.enum(roles) }),
  z.strictObject({ kind: z.literal('user'), userId: z.string().min(1).max(64) }),
]);
export type EscalationTarget = z.infer<typeof escalationTargetSchema>;
export const targetKinds = ['assigned', 'charge', 'department', 'schedule', 'role', 'user'] as const;

/** Index = level. A level with no entry falls back to today's rule (level 0 the department, above it head doctors). */
const levelTargets = z.array(z.array(escalationTargetSchema).min(1, 'a level needs at least one target').max(10)).max(11);

export const timezoneSchema = z.string().refine(isValidTimezone, 'must be an IANA time zone such as Europe/London');

const levelPolicy = z.object({
  /** Seconds an active alert waits at level i before escalating to level i+1; the length is the top level. */
  levelTimeoutsSeconds: z.array(z.number().int().min(1).max(86_400)).min(1).max(10),
  /** Acknowledged but unresolved this long: the alert reopens and escalates (clinical-safety issue). */
  ackTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Absent: no pages, exactly the screens-only behaviour before the people issue. */
  targets: levelTargets.optional(),
});

const shelveCap = z.number().int().min(1, 'At least 1 minute').max(1_440, 'At most 24 hours');
const maxShelveMinutesSchema = z.object(Object.fromEntries(priorities.map((p) => [p, shelveCap])) as Record<(typeof priorities)[number], typeof shelveCap>);
/** ISA-18.2 wants shelving bounded; the more urgent, the shorter. */
const DEFAULT_MAX_SHELVE_MINUTES = { low: 480, medium: 240, high: 60, critical: 15 };
const codeTeam = z.array(escalationTargetSchema).min(1, 'a code team needs at least one target').max(10);

export const hospitalSettingsSchema = z.object({
  escalation: z.object(Object.fromEntries(priorities.map((p) => [p, levelPolicy])) as Record<(typeof priorities)[number], typeof levelPolicy>),
  requireTwoFactorFor: z.array(z.enum(roles)).max(roles.length),
  sessionHours: z.number().int().min(1).max(24 * 14),
  dedupWindowSeconds: z.number().int().min(0).max(86_400),
  noScreenAlertAfterSeconds: z.number().int().min(30).max(86_400),
  /** IANA zone for schedules; absent: the server's CLARION_TIMEZONE. */
  timezone: timezoneSchema.optional(),
  /** What a page says on a lock screen, an SMS or an email: 'minimal' carries no patient detail; 'full' adds the title. */
  notificationDetail: z.enum(['minimal', 'full']).default('minimal'),
  /** How a person of a role is reached until they set their own rules; a role left out gets Clarion's built-in steps. */
  notificationDefaults: z.partialRecord(z.enum(roles), rulesSchema).optional(),
  /** The longest a person may shelve an alert of each priority, in minutes (alarm issue; ISA-18.2 caps shelving). */
  maxShelveMinutes: maxShelveMinutesSchema.default(DEFAULT_MAX_SHELVE_MINUTES),
  /** Who a hospital code pages at once, per code (the people issue's targets); a code left out pages the head doctors. */
  codeTeams: z.partialRecord(z.enum(hospitalCodes), codeTeam).optional(),
});
export type HospitalSettings = z.infer<typeof hospitalSettingsSchema>;

export const defaultHospitalSettings: HospitalSettings = {
  escalation: {
    critical: { levelTimeoutsSeconds: [60, 120, 180] },
    high: { levelTimeoutsSeconds: [180, 300, 600] },
    medium: { levelTimeoutsSeconds: [600, 900] },
    low: { levelTimeoutsSeconds: [1_800] },
  },
  requireTwoFactorFor: ['admin'],
  sessionHours: 12,
  dedupWindowSeconds: 120,
  noScreenAlertAfterSeconds: 300,
  notificationDetail: 'minimal',
  maxShelveMinutes: DEFAULT_MAX_SHELVE_MINUTES,
};

/** Stored settings may predate a field: read them over the defaults, so old rows keep working. */
export function readSettings(stored: unknown): HospitalSettings {
  const merged = deepMerge(defaultHospitalSettings as unknown as Record<string, unknown>, (stored ?? {}) as Record<string, unknown>);
  const parsed = hospitalSettingsSchema.safeParse(merged);
  return parsed.success ? parsed.data : defaultHospitalSettings;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** DESIGN.md: partial settings updates deep-merge objects and replace arrays. */
export function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) && isPlainObject(base[key]) ? deepMerge(base[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

/**
 * The input of hospitals.updateSettings: any subset of the settings, nested objects partial too.
 * Strict, so a misspelt key is an error rather than silently ignored. `null` removes an
 * optional field (ackTimeoutSeconds, targets, timezone).
 */
const levelPolicyPatch = z.strictObject({
  levelTimeoutsSeconds: levelPolicy.shape.levelTimeoutsSeconds.optional(),
  ackTimeoutSeconds: z.number().int().min(1).max(86_400).nullable().optional(),
  /** Replaces the whole list; null removes it (back to screens only). */
  targets: levelTargets.nullable().optional(),
});
export const hospitalSettingsPatchSchema = z.strictObject({
  escalation: z
    .strictObject(Object.fromEntries(priorities.map((p) => [p, levelPolicyPatch.optional()])) as Record<(typeof priorities)[number], z.ZodOptional<typeof levelPolicyPatch>>)
    .optional(),
  requireTwoFactorFor: hospitalSettingsSchema.shape.requireTwoFactorFor.optional(),
  sessionHours: hospitalSettingsSchema.shape.sessionHours.optional(),
  dedupWindowSeconds: hospitalSettingsSchema.shape.dedupWindowSeconds.optional(),
  noScreenAlertAfterSeconds: hospitalSettingsSchema.shape.noScreenAlertAfterSeconds.optional(),
  timezone: timezoneSchema.nullable().optional(),
  notificationDetail: z.enum(['minimal', 'full']).optional(),
  /** Replaces the whole map; null removes it (built-in defaults for every role). */
  notificationDefaults: z.partialRecord(z.enum(roles), rulesSchema).nullable().optional(),
  maxShelveMinutes: z.strictObject(Object.fromEntries(priorities.map((p) => [p, shelveCap.optional()])) as Record<(typeof priorities)[number], z.ZodOptional<typeof shelveCap>>).optional(),
  /** Replaces the whole map; null removes it (every code pages the head doctors). */
  codeTeams: z.partialRecord(z.enum(hospitalCodes), codeTeam).nullable().optional(),
});
export type HospitalSettingsPatch = z.infer<typeof hospitalSettingsPatchSchema>;

function dropNulls(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)]));
}

/** Applies a patch (objects deep-merged, arrays replaced, null removes); the caller validates the result. */
export function applySettingsPatch(current: HospitalSettings, patch: HospitalSettingsPatch): Record<string, unknown> {
  return dropNulls(deepMerge(current as unknown as Record<string, unknown>, patch as Record<string, unknown>)) as Record<string, unknown>;
}

/** Dotted paths of the leaves that differ (arrays compared whole), for the audit row. */
export function changedSettingKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedSettingKeys(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}
