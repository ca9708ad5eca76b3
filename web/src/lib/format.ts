/*
 * One date format everywhere, from the browser's locale (Intl with `undefined` locale): a time on
 * its own is today; any other day carries its date ("2 Dec, 14:05:09"; another year adds the year).
 * Every screen uses these helpers (board, console, admin) so displayed dates and date pickers agree.
 */
type DateLike = Date | string | number;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

const sameDay = (a: Date, b: Date) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** The time of day in the screen's local time and locale (the ward's clock). */
export function clock(date: DateLike): string {
  return timeFmt.format(new Date(date));
}

/** The day alone: "2 Dec" this year, "2 Dec 2025" another year. */
export function day(date: DateLike, now: DateLike = Date.now()): string {
  const d = new Date(date);
  return (d.getFullYear() === new Date(now).getFullYear() ? dayFmt : dayYearFmt).format(d);
}

/** A moment as people read it: the time alone when it is today, with its day otherwise. */
export function when(date: DateLike | null | undefined, now: DateLike = Date.now()): string {
  if (date === null || date === undefined || date === '') return '—';
  const d = new Date(date);
  return sameDay(d, new Date(now)) ? clock(d) : `${day(d, now)}, ${clock(d)}`;
}

/** A moment with its day always shown (logs, exports, expiry times). */
export function dateTime(date: DateLike | null | undefined, now: DateLike = Date.now()): string {
  if (date === null || date === undefined || date === '') return '—';
  return `${day(date, now)}, ${clock(date)}`;
}

/** A date picker's value (local "YYYY-MM-DD") as the ISO instant its day starts, or ends when `end`. */
export function dayInputToIso(value: string, end = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  return (end ? new Date(y, m - 1, d, 23, 59, 59, 999) : new Date(y, m - 1, d)).toISOString();
}

/** "45s", "3m 05s", "2h 04m": the age of an alert, readable at a glance. */
export function age(fromIso: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export const roleLabel: Record<string, string> = {
  operator: 'Operator',
  nurse: 'Nurse',
  doctor: 'Doctor',
  head_doctor: 'Head doctor',
  admin: 'Admin',
};

/** Words for the enums, capitalised the same way on every screen ("Code blue", "Critical", "Waiting"). */
export const statusLabel: Record<string, string> = {
  active: 'Waiting',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
  cancelled: 'Cancelled',
  shelved: 'Shelved',
  suppressed: 'Kept quiet',
};
/** A hospital code as the banner and the console say it. */
export const codeLabel: Record<string, string> = { blue: 'Code Blue', rapid_response: 'Rapid Response', fire: 'Fire', lockdown: 'Lockdown', missing_person: 'Missing person' };
/** "12:34" (or "1:02:03"): a countdown readable from across the room. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
export const priorityLabel: Record<string, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };
/** An alert type ("code_blue", "fall") as a label: sentence case, underscores as spaces. */
export function typeLabel(type: string | null | undefined): string {
  if (!type) return '';
  const words = type.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** Where an alert came from, in words, or null for one raised on the console (the usual case says nothing). */
export function sourceLabel(source: string | null | undefined): string | null {
  if (!source || source === 'console') return null;
  const [kind, ...rest] = source.split(':');
  const name = rest.join(':');
  if (kind === 'api' && name) return `From ${name} (API)`;
  if (kind === 'hl7' && name) return `From ${name} (HL7)`;
  if (kind === 'fhir') return 'From the EHR (FHIR)';
  return `From ${source}`;
}
