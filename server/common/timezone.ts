import { IANAZone } from 'luxon';

/** An IANA zone name this runtime knows (Europe/Berlin, America/New_York); no dependency but luxon, so the web forms use it too. */
export function isValidTimezone(name: string): boolean {
  return name.length <= 64 && IANAZone.isValidZone(name);
}
