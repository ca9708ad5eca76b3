import { describe, expect, it } from 'vitest';
import { createAlertInput } from '../../../server/alerts/schemas.js';
import { hospitalSettingsSchema } from '../../../server/hospitals/settings.js';
import { createDepartmentInput } from '../../../server/hospitals/schemas.js';
import { issuesToFields, readable, validate } from './validate.js';

const RAW = /Too big|Too small|expected|Invalid input|received/;

describe('readable validation messages (issue 15 point 8)', () => {
  it("turns zod's built-in texts into words", () => {
    expect(readable('Too big: expected string to have <=40 characters')).toBe('At most 40 characters');
    expect(readable('Too small: expected string to have >=3 characters')).toBe('At least 3 characters');
    expect(readable('Too small: expected number to be >=30')).toBe('At least 30');
    expect(readable('Too big: expected number to be <=86400')).toBe('At most 86400');
    expect(readable('Invalid input: expected number, received NaN')).toBe('Enter a number');
    expect(readable('Invalid input: expected string, received undefined')).toBe('Required');
    expect(readable('Too small: expected array to have >=1 items')).toBe('Choose at least 1');
  });

  it('leaves our own messages alone', () => {
    expect(readable('Nurses and doctors need a department')).toBe('Nurses and doctors need a department');
    expect(readable('Use 1 to 10 letters or digits')).toBe('Use 1 to 10 letters or digits');
  });

  it('no form message of the shared schemas is raw zod text', () => {
    const alert = validate(createAlertInput, { title: 'x'.repeat(201), roomNumber: 'r'.repeat(41), priority: 'urgent', alertType: '', departmentId: undefined });
    expect(alert.errors).not.toBeNull();
    for (const m of Object.values(alert.errors!)) expect(m).not.toMatch(RAW);
    expect(alert.errors!.roomNumber).toBe('At most 40 characters');
    const dept = validate(createDepartmentInput, { code: 'ICU', name: 'n'.repeat(101) });
    expect(dept.errors!.name).toBe('At most 100 characters');
  });

  it('nested settings errors keep their full field path', () => {
    const bad = { escalation: { critical: { levelTimeoutsSeconds: [Number.NaN, 0] }, high: { levelTimeoutsSeconds: [1] }, medium: { levelTimeoutsSeconds: [1] }, low: { levelTimeoutsSeconds: [1] } }, requireTwoFactorFor: [], sessionHours: 400, dedupWindowSeconds: 0, noScreenAlertAfterSeconds: 30 };
    const parsed = hospitalSettingsSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(issuesToFields(parsed.error!.issues, 99)).toEqual({
      'escalation.critical.levelTimeoutsSeconds.0': 'Enter a number',
      'escalation.critical.levelTimeoutsSeconds.1': 'At least 1',
      sessionHours: 'At most 336',
    });
  });
});
