import { z } from 'zod';

/** Ids on the wire: strings. A malformed id is simply not found, so only length is checked here. */
export const zId = z.string().trim().min(1, 'Required').max(100);

/** Timestamps on the wire: ISO-8601 strings with an offset. Services convert with toIso. */
export const zIso = z.iso.datetime({ offset: true });

export const toIso = (d: Date) => d.toISOString();
export const toIsoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Free text from a form: trimmed, bounded, and free of control characters other than newline and tab. */
export const zText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), 'Must not contain control characters');

export const zEmail = z.string().trim().toLowerCase().pipe(z.email('Enter a valid email address').max(254));
