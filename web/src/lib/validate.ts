import type { z } from 'zod';

export type FieldErrors = Record<string, string>;

/*
 * zod's built-in messages ("Too big: expected string to have <=40 characters") are for developers.
 * Every message a person sees — from a form's own check or from the server's data.fieldErrors —
 * passes through readable(), the one place they are turned into words. Our own schema messages
 * ("Nurses and doctors need a department") pass through unchanged.
 */
const rules: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/received undefined|received null/, () => 'Required'],
  [/expected number, received (NaN|string)/, () => 'Enter a number'],
  [/^Too big: expected string to have <=?(\d+) characters?/, (m) => `At most ${m[1]} characters`],
  [/^Too small: expected string to have >=?(\d+) characters?/, (m) => (m[1] === '1' ? 'Required' : `At least ${m[1]} characters`)],
  [/^Too big: expected number to be <=?(-?[\d.]+)/, (m) => `At most ${m[1]}`],
  [/^Too small: expected number to be >=?(-?[\d.]+)/, (m) => `At least ${m[1]}`],
  [/^Too big: expected number to be <(-?[\d.]+)/, (m) => `Less than ${m[1]}`],
  [/^Too small: expected number to be >(-?[\d.]+)/, (m) => `More than ${m[1]}`],
  [/^Too big: expected array to have <=?(\d+) items?/, (m) => `Choose at most ${m[1]}`],
  [/^Too small: expected array to have >=?(\d+) items?/, (m) => `Choose at least ${m[1]}`],
  [/expected int|expected integer/i, () => 'Enter a whole number'],
  [/^Invalid email/i, () => 'Enter a valid email address'],
  [/^Invalid option|^Invalid enum/i, () => 'Choose one of the options'],
  [/^Invalid ISO datetime|^Invalid date/i, () => 'Enter a valid date and time'],
  [/^Invalid UUID|^Invalid uuid/i, () => 'Not a valid id'],
  [/^Invalid URL/i, () => 'Enter a valid web address'],
  [/^Invalid string: must match pattern/i, () => 'Not in the expected format'],
  [/^Invalid input/i, () => 'Check this value'],
  [/^Unrecognized key/i, () => 'Not an allowed field'],
];

/** A validation message as a person can read it (see above). */
export function readable(message: string): string {
  for (const [re, say] of rules) {
    const m = message.match(re);
    if (m) return say(m);
  }
  return message;
}

/** Validates form values with the server's own zod schema; field messages keyed by field name. */
export function validate<S extends z.ZodType>(schema: S, values: unknown): { data: z.infer<S>; errors: null } | { data: null; errors: FieldErrors } {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { data: parsed.data, errors: null };
  return { data: null, errors: issuesToFields(parsed.error.issues) };
}

/** zod issues as one readable message per field; nested paths ("escalation.critical.0") keep their full path. */
export function issuesToFields(issues: readonly z.core.$ZodIssue[], depth = 1): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.length ? issue.path.slice(0, depth).map(String).join('.') : '_';
    errors[key] ??= readable(issue.message);
  }
  return errors;
}

/** Empty form strings become undefined, so optional fields stay optional. */
export function blankToUndefined<T extends Record<string, unknown>>(values: T): { [K in keyof T]: T[K] | undefined } {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === '' ? undefined : v])) as { [K in keyof T]: T[K] | undefined };
}
