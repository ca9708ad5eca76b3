/** HH:MM:SS in the screen's local time (the ward's clock). */
export function clock(date: Date | string | number): string {
  return new Date(date).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function dateTime(date: Date | string | number | null | undefined): string {
  if (!date) return '—';
  return new Date(date).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium', hour12: false });
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
