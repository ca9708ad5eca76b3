import type { HospitalSettings } from '../../../../server/hospitals/settings.js';

/**
 * Values the schema allows but that would hurt in practice: said next to the field, in words, before
 * saving (the save still goes through: a hospital may have its reasons). Keys are field paths.
 */
export function settingsWarnings(s: HospitalSettings): Record<string, string> {
  const w: Record<string, string> = {};
  const minimum: Record<string, number> = { critical: 15, high: 30, medium: 60, low: 60 };
  for (const [p, policy] of Object.entries(s.escalation)) {
    policy.levelTimeoutsSeconds.forEach((sec, i) => {
      if (sec < (minimum[p] ?? 30))
        w[`escalation.${p}.levelTimeoutsSeconds.${i}`] = `Only ${sec} s: the ${p} alert escalates before anyone can reach the screen. Under ${minimum[p]} s is rarely intended.`;
    });
    if (policy.ackTimeoutSeconds !== undefined && policy.ackTimeoutSeconds < 60)
      w[`escalation.${p}.ackTimeoutSeconds`] = `Only ${policy.ackTimeoutSeconds} s: acknowledged alerts come back before the nurse is at the bedside.`;
  }
  if (s.dedupWindowSeconds === 0) w.dedupWindowSeconds = '0 turns duplicate suppression off: every repeated button press is a new alert.';
  if (s.sessionHours > 24) w.sessionHours = `Sessions of ${s.sessionHours} h outlast a shift: an unattended screen stays signed in.`;
  if (!s.requireTwoFactorFor.includes('admin')) w.requireTwoFactorFor = 'Admins can change every setting and user: without two-factor a stolen password is enough.';
  return w;
}
