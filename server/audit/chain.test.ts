import { describe, expect, it } from 'vitest';
import { copyField, isoMicros, jsonbText, plusYearsMicros } from './chain.js';
import { decodeCursor, encodeCursor } from './service.js';

// The SQL side of these (audit_row_hash) is compared in test/audit/chain.int.test.ts.
describe('jsonb canonical text', () => {
  it('orders keys by length, then bytewise, with jsonb separators', () => {
    expect(jsonbText({ bb: 1, a: [1, 'x', null], B: true, aa: { z: {}, y: [] } })).toBe('{"B": true, "a": [1, "x", null], "aa": {"y": [], "z": {}}, "bb": 1}');
  });
  it('escapes strings as JSON does', () => {
    expect(jsonbText('a"b\\c\nd\u0001é')).toBe('"a\\"b\\\\c\\nd\\u0001é"');
  });
});

describe('timestamps', () => {
  it('render with microseconds in UTC', () => {
    expect(isoMicros(Date.UTC(2025, 0, 2, 3, 4, 5, 6) * 1000 + 7)).toBe('2025-01-02T03:04:05.006007Z');
    expect(isoMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
  });
  it('add years like Postgres intervals (Feb 29 clamps)', () => {
    const us = Date.UTC(2024, 1, 29, 10) * 1000 + 1;
    expect(isoMicros(plusYearsMicros(us, 6))).toBe('2030-02-28T10:00:00.000001Z');
    expect(isoMicros(plusYearsMicros(Date.UTC(2021, 6, 31) * 1000, 6))).toBe('2027-07-31T00:00:00.000000Z');
  });
});

describe('COPY fields', () => {
  it('escape backslash, tab and newlines; null is \\N', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField(12)).toBe('12');
  });
});

describe('audit log cursor', () => {
  it('round-trips microsecond timestamps and ids', () => {
    const c = encodeCursor('2025-06-01T12:00:00.123456Z', '0190-abc');
    expect(decodeCursor(c)).toEqual({ ts: '2025-06-01T12:00:00.123456Z', id: '0190-abc' });
  });
  it('rejects anything else as BAD_REQUEST', () => {
    for (const bad of ['!!', Buffer.from('2025-06-01T12:00:00.123Z|x').toString('base64url'), Buffer.from('2025-06-01T12:00:00.123456Z|').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    }
  });
});
