import { describe, expect, it } from 'vitest';
import { clock, countdown, dateTime, dayInputToIso, sourceLabel, statusLabel, typeLabel, when } from './format.js';

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

describe('the shelf countdown and the alarm-management statuses', () => {
  it('counts down in minutes and seconds, with hours when longer, never below zero', () => {
    expect(countdown(12 * 60_000 + 34_000)).toBe('12:34');
    expect(countdown(59_001)).toBe('1:00'); // a part second still left shows as a whole one
    expect(countdown(3 * 3_600_000 + 5 * 60_000 + 9_000)).toBe('3:05:09');
    expect(countdown(-5_000)).toBe('0:00');
  });
  it('says shelved and suppressed in words', () => {
    expect(statusLabel.shelved).toBe('Shelved');
    expect(statusLabel.suppressed).toBe('Kept quiet');
  });
});
