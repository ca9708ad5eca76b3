import type { Alert } from '../../alerts/schemas.js';
import { type Hl7Message, type Hl7Segment, tokens, value } from './message.js';

/**
 * IHE PCD TF-2 ACM "Report Alarm" (ORU^R40) → what Clarion needs for an alert. Choices (README,
 * "HL7 v2 (MLLP) from monitors and nurse call"):
 * - alarm identifier (externalId): OBR-3.1 filler order number, else OBR-2.1 placer order number — the
 *   ACM unique id of the alarm instance, the same on its start, updates and end;
 * - location: PV1-3 (PL) point of care ^ room ^ bed; the point of care maps to a department;
 * - title: OBX-5 of the alarm's first OBX (facet 1, the event identification, e.g. MDC_EVT_HI
 *   "PLETH PULSE HIGH"), else the text of OBX-3.2;
 * - priority: OBX-8 abnormal flags of that OBX (PRIORITY below);
 * - cleared: an ALARM_STATE observation of "inactive", or EVENT_PHASE "end"/"stop"/"reset".
 * One message may report several alarms (one OBR group each).
 */
export interface AlarmReport {
  externalId: string;
  title: string;
  description?: string;
  priority: Alert['priority'];
  alertType: 'medical' | 'technical';
  cleared: boolean;
}

export interface OruR40 {
  controlId: string;
  sendingFacility: string;
  pointOfCare: string;
  roomNumber?: string;
  alarms: AlarmReport[];
}

/** Why a message is rejected (AR): HL7 table 0357 code and words for MSA-3 / ERR-8. */
export class Hl7Reject extends Error {
  constructor(
    public readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * OBX-8 abnormal flags → priority; the most urgent flag present wins. ACM alarm priorities PH/PM/PL/PN
 * (high/medium/low/none); HL7 table 0078 panic flags HH, LL (and AA, very abnormal) are critical.
 * No flag at all: medium.
 */
export const PRIORITY: Record<string, Alert['priority']> = { HH: 'critical', LL: 'critical', AA: 'critical', PH: 'high', PM: 'medium', PL: 'low', PN: 'low' };
const RANK: Alert['priority'][] = ['low', 'medium', 'high', 'critical'];
const CLEARED_PHASES = new Set(['end', 'stop', 'reset']);

export function priorityOf(flags: string[]): Alert['priority'] {
  const found = flags.map((f) => PRIORITY[f]).filter((p): p is Alert['priority'] => p !== undefined);
  if (found.length === 0) return 'medium';
  return found.reduce((a, b) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a));
}

export function readOruR40(msg: Hl7Message): OruR40 {
  const msh = msg.segments[0] as Hl7Segment;
  const type = `${value(msg, msh, 9, 1)}^${value(msg, msh, 9, 2)}`.toUpperCase();
  if (type !== 'ORU^R40') throw new Hl7Reject(200, `Only ORU^R40 (Report Alarm) is accepted, not ${type.slice(0, 20)}`);
  const controlId = value(msg, msh, 10);
  if (!controlId) throw new Hl7Reject(101, 'MSH-10 message control id is missing');
  const sendingFacility = value(msg, msh, 4, 1);
  if (!sendingFacility) throw new Hl7Reject(101, 'MSH-4 sending facility is missing');
  const pv1 = msg.segments.find((s) => s.name === 'PV1');
  const pointOfCare = value(msg, pv1, 3, 1);
  if (!pointOfCare) throw new Hl7Reject(101, 'PV1-3 point of care is missing');
  const room = value(msg, pv1, 3, 2);
  const bed = value(msg, pv1, 3, 3);
  const roomNumber = [room, bed].filter(Boolean).join('-').slice(0, 40) || undefined;

  const groups: { obr: Hl7Segment; obx: Hl7Segment[] }[] = [];
  for (const seg of msg.segments) {
    if (seg.name === 'OBR') groups.push({ obr: seg, obx: [] });
    else if (seg.name === 'OBX') {
      const group = groups[groups.length - 1];
      if (!group) throw new Hl7Reject(100, 'An OBX comes before any OBR');
      group.obx.push(seg);
    }
  }
  if (groups.length === 0) throw new Hl7Reject(101, 'No OBR: the message reports no alarm');
  if (groups.length > 50) throw new Hl7Reject(100, 'At most 50 alarms in one message');
  const alarms = groups.map((g) => readAlarm(msg, g.obr, g.obx));
  return { controlId, sendingFacility, pointOfCare, roomNumber, alarms };
}

function readAlarm(msg: Hl7Message, obr: Hl7Segment, obx: Hl7Segment[]): AlarmReport {
  const externalId = (value(msg, obr, 3, 1) || value(msg, obr, 2, 1)).slice(0, 200);
  if (!externalId) throw new Hl7Reject(101, 'OBR-3 (or OBR-2) alarm identifier is missing');
  const event = obx[0];
  if (!event) throw new Hl7Reject(101, `Alarm ${externalId.slice(0, 40)} has no OBX`);
  const title = (value(msg, event, 5) || value(msg, event, 3, 2) || value(msg, event, 3, 1)).slice(0, 200);
  if (!title) throw new Hl7Reject(101, 'OBX-5 alarm text (or OBX-3 event identifier) is missing');
  const flags = tokens(msg, event, 8);
  const facet = (name: string) => {
    const seg = obx.find((s) => value(msg, s, 3).toUpperCase().includes(name));
    return seg ? value(msg, seg, 5).toLowerCase() : '';
  };
  const cleared = facet('ALARM_STATE') === 'inactive' || CLEARED_PHASES.has(facet('EVENT_PHASE'));
  const eventCode = value(msg, event, 3, 2) || value(msg, event, 3, 1);
  return {
    externalId,
    title,
    description: eventCode && eventCode !== title ? `${eventCode} (${value(msg, event, 4) || 'no sub-id'})`.slice(0, 2_000) : undefined,
    priority: priorityOf(flags),
    alertType: flags.includes('ST') ? 'technical' : 'medical',
    cleared,
  };
}
