import { z } from 'zod';
import { priorities, roles } from '../db/schema.js';

const levelPolicy = z.object({
  /** Seconds an active alert waits at level i before escalating to level i+1; the length is the top level. */
  levelTimeoutsSeconds: z.array(z.number().int().min(1).max(86_400)).min(1).max(10),
  /** Acknowledged but unresolved this long: the alert reopens and escalates (clinical-safety issue). */
  ackTimeoutSeconds: z.number().int().min(10).max(86_400).optional(),
});

export const hospitalSettingsSchema = z.object({
  escalation: z.object(Object.fromEntries(priorities.map((p) => [p, levelPolicy])) as Record<(typeof priorities)[number], typeof levelPolicy>),
  requireTwoFactorFor: z.array(z.enum(roles)).max(roles.length),
  sessionHours: z.number().int().min(1).max(24 * 14),
  dedupWindowSeconds: z.number().int().min(0).max(86_400),
  noScreenAlertAfterSeconds: z.number().int().min(30).max(86_400),
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
