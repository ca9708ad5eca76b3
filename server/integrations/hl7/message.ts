/**
 * A small HL7 v2 (ER7, pipe-delimited) reader and ACK writer. Clarion only reads ORU^R40 and answers
 * ACKs, so a full parser is not needed; delimiters come from each message's own MSH-1/MSH-2.
 */
export interface Hl7Segment {
  name: string;
  /** fields[n] is SEG-n (for MSH, fields[1] is MSH-1, the field separator). */
  fields: string[];
}

export interface Hl7Message {
  segments: Hl7Segment[];
  delimiters: { field: string; component: string; repetition: string; escape: string; subcomponent: string };
}

export class Hl7ParseError extends Error {}

export function parseHl7(text: string): Hl7Message {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.length > 0);
  const msh = lines[0];
  if (!msh?.startsWith('MSH') || msh.length < 8) throw new Hl7ParseError('The message does not start with an MSH segment');
  const field = msh[3] as string;
  const [component, repetition, esc, subcomponent] = msh.slice(4, 8);
  const enc = [field, component, repetition, esc, subcomponent];
  if (!component || !repetition || !esc || !subcomponent || new Set(enc).size !== 5 || /[A-Za-z0-9\s]/.test(enc.join(''))) {
    throw new Hl7ParseError('MSH-1/MSH-2 do not declare five distinct delimiters');
  }
  const segments = lines.map((line) => {
    const parts = line.split(field);
    const name = parts[0] as string;
    if (!/^[A-Z][A-Z0-9]{2}$/.test(name)) throw new Hl7ParseError(`"${name.slice(0, 10)}" is not a segment name`);
    // MSH-1 is the separator itself, so MSH's fields shift by one against the split.
    return { name, fields: name === 'MSH' ? [name, field, ...parts.slice(1)] : parts };
  });
  return { segments, delimiters: { field, component, repetition, escape: esc, subcomponent } };
}

/** One field's text, component (1-based) of its first repetition, with HL7 escapes undone. */
export function value(msg: Hl7Message, seg: Hl7Segment | undefined, fieldNo: number, componentNo?: number): string {
  const raw = seg?.fields[fieldNo] ?? '';
  if (seg?.name === 'MSH' && fieldNo <= 2) return raw;
  const first = raw.split(msg.delimiters.repetition)[0] ?? '';
  const part = componentNo === undefined ? first : (first.split(msg.delimiters.component)[componentNo - 1] ?? '');
  return unescapeHl7(msg, componentNo === undefined ? part : (part.split(msg.delimiters.subcomponent)[0] ?? '')).trim();
}

/** Every repetition's every component of a field (OBX-8 abnormal flags may come as H~PM~SP). */
export function tokens(msg: Hl7Message, seg: Hl7Segment | undefined, fieldNo: number): string[] {
  const raw = seg?.fields[fieldNo] ?? '';
  return raw
    .split(msg.delimiters.repetition)
    .flatMap((r) => r.split(msg.delimiters.component))
    .map((t) => t.trim().toUpperCase())
    .filter(Boolean);
}

function unescapeHl7(msg: Hl7Message, s: string): string {
  const e = msg.delimiters.escape;
  if (!s.includes(e)) return s;
  const map: Record<string, string> = { F: msg.delimiters.field, S: msg.delimiters.component, T: msg.delimiters.subcomponent, R: msg.delimiters.repetition, E: e };
  const re = new RegExp(`${escapeRe(e)}([FSTRE])${escapeRe(e)}`, 'g');
  return s.replace(re, (_m, c: string) => map[c] as string);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Text we put into an ACK field: no delimiters or line breaks of ours leak into it. */
const clean = (s: string) => s.replace(/[|^~\\&\r\n]/g, ' ').slice(0, 200);

export type AckCode = 'AA' | 'AE' | 'AR';
let ackSeq = 0;

/**
 * An HL7 ACK in original acknowledgement mode. MSA-3 carries the reason (v2.3 style) and ERR-3/ERR-8
 * the same for v2.5+ receivers; HL7 table 0357 codes: 100 segment sequence, 101 required field
 * missing, 103 table value not found, 200 unsupported message type, 207 application internal error.
 */
export function buildAck(request: Hl7Message | null, code: AckCode, reason?: { code: number; text: string }): string {
  const msh = request?.segments[0];
  const get = (n: number) => (request && msh ? clean(value(request, msh, n)) : '');
  const ts = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const controlId = get(10);
  const version = get(12) || '2.6';
  ackSeq = (ackSeq + 1) % 1000;
  const lines = [
    ['MSH', '^~\\&', 'CLARION', 'CLARION', get(3), get(4), ts, '', 'ACK^R40^ACK', `ACK${Date.now()}${ackSeq}`, 'P', version].join('|'),
    ['MSA', code, controlId, reason ? clean(reason.text) : ''].join('|'),
  ];
  if (reason) lines.push(['ERR', '', '', `${reason.code}^${clean(reason.text)}^HL70357`, 'E', '', '', '', clean(reason.text)].join('|'));
  return `${lines.join('\r')}\r`;
}
