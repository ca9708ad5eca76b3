import { describe, expect, it } from 'vitest';
import { clock, dateTime, dayInputToIso, sourceLabel, typeLabel, when } from './format.js';

describe('one date format (issue 15 point 9)', () => {
  const now = new Date(2026, 11, 2, 15, 0, 0);
  it('a time of today is the time alone; another day carries its date; another year its year', () => {
    const today = new Date(2026, 11, 2, 9, 5, 7);
    expect(when(today, now)).toBe(clock(today));
    const yesterday = new Date(2026, 11, 1, 23, 59, 0);
    expect(when(yesterday, now)).not.toBe(clock(yesterday));
    expect(when(yesterday, now)).toContain(clock(yesterday));
    expect(when(yesterday, now)).toMatch(/1/);
    expect(when(new Date(2025, 11, 1, 8, 0, 0), now)).toMatch(/2025/);
    expect(dateTime(today, now)).not.toBe(clock(today));
    expect(when(null)).toBe('—');
  });
  it("a date picker's day is that local day's start or end", () => {
    expect(new Date(dayInputToIso('2026-12-01')!).getTime()).toBe(new Date(2026, 11, 1).getTime());
    expect(new Date(dayInputToIso('2026-12-01', true)!).getTime()).toBe(new Date(2026, 11, 1, 23, 59, 59, 999).getTime());
    expect(dayInputToIso('')).toBeUndefined();
  });
  it('types in sentence case', () => {
    expect(typeLabel('code_blue')).toBe('Code blue');
    expect(typeLabel('MEDICAL')).toBe('Medical');
    expect(sourceLabel('console')).toBeNull();
    expect(sourceLabel(undefined)).toBeNull();
    expect(sourceLabel('api:Nurse call')).toBe('From Nurse call (API)');
    expect(sourceLabel('hl7:ICU gateway')).toBe('From ICU gateway (HL7)');
    expect(sourceLabel('fhir')).toBe('From the EHR (FHIR)');
  });
});
