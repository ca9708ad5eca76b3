import { describe, expect, it } from 'vitest';
import { priorityOf, readOruR40 } from './mapping.js';
import { parseHl7, value } from './message.js';
import { CR, FS, frame, MllpDecoder, VT } from './mllp.js';

describe('MLLP decoder', () => {
  it('reassembles a frame split byte by byte, drops bytes between frames, and reports an oversize frame once', () => {
    const d = new MllpDecoder(1_000);
    const bytes = Buffer.concat([Buffer.from('noise'), frame('MSH|one'), Buffer.from([0x00, 0xff]), frame('MSH|two')]);
    const got: string[] = [];
    for (const b of bytes) for (const ev of d.push(Buffer.from([b]))) if (ev.kind === 'message') got.push(ev.payload.toString());
    expect(got).toEqual(['MSH|one', 'MSH|two']);
    const big = new MllpDecoder(10);
    const evs = big.push(Buffer.concat([Buffer.from([VT]), Buffer.alloc(11, 0x41), Buffer.from([FS, CR])]));
    expect(evs.map((e) => e.kind)).toEqual(['oversize']);
    expect(big.push(frame('MSH|later'))).toEqual([]);
  });
});

describe('ORU^R40 mapping', () => {
  it('priority: panic flags are critical, the most urgent flag wins, none is medium', () => {
    expect(priorityOf(['L', 'PH', 'SP'])).toBe('high');
    expect(priorityOf(['LL', 'PL'])).toBe('critical');
    expect(priorityOf(['PM'])).toBe('medium');
    expect(priorityOf(['PN'])).toBe('low');
    expect(priorityOf([])).toBe('medium');
  });

  it('reads escapes, custom delimiters and several alarms in one message', () => {
    const msg = parseHl7(
      ['MSH#*~\\&#GW#FAC#C#H#20260101##ORU*R40#C1#P#2.6', 'PV1##I#ICU*12', 'OBR#1#A1#A1', 'OBX#1#ST#1*EVT#1.1#HR \\F\\ HIGH###PH', 'OBR#2##B2', 'OBX#1#ST#2*EVT#1.1#LEAD OFF###PL~ST', 'OBX#2#ST#68482*MDC_ATTR_ALARM_STATE#1.2#inactive'].join('\r'),
    );
    expect(value(msg, msg.segments[0], 9, 2)).toBe('R40');
    const r = readOruR40(msg);
    expect(r).toMatchObject({ sendingFacility: 'FAC', pointOfCare: 'ICU', roomNumber: '12', controlId: 'C1' });
    expect(r.alarms).toEqual([
      expect.objectContaining({ externalId: 'A1', title: 'HR # HIGH', priority: 'high', alertType: 'medical', cleared: false }),
      expect.objectContaining({ externalId: 'B2', title: 'LEAD OFF', priority: 'low', alertType: 'technical', cleared: true }),
    ]);
  });

  it('refuses what is not an ORU^R40 or lacks a required field', () => {
    const base = (msh9: string, pv1: string, obr: string) => parseHl7(`MSH|^~\\&|GW|FAC|C|H|1||${msh9}|C1|P|2.6\rPV1||I|${pv1}\r${obr}\rOBX|1|ST|1^E|1|T`);
    expect(() => readOruR40(base('ADT^A01', 'ICU', 'OBR|1|A|A'))).toThrow(/Only ORU\^R40/);
    expect(() => readOruR40(base('ORU^R40', '', 'OBR|1|A|A'))).toThrow(/PV1-3/);
    expect(() => readOruR40(base('ORU^R40', 'ICU', 'OBR|1||'))).toThrow(/OBR-3/);
    expect(() => parseHl7('PID|1')).toThrow(/MSH/);
    expect(() => parseHl7('MSH|^^\\&|')).toThrow(/delimiters/);
  });
});
