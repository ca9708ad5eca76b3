import type { z } from 'zod';

export type FieldErrors = Record<string, string>;

/** Validates form values with the server's own zod schema; field messages keyed by field name. */
export function validate<S extends z.ZodType>(schema: S, values: unknown): { data: z.infer<S>; errors: null } | { data: null; errors: FieldErrors } {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { data: parsed.data, errors: null };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? '_');
    // A field left empty is undefined here (optional fields must be), so zod says "expected string,
    // received undefined": say "Required" instead.
    errors[key] ??= issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'Required' : issue.message;
  }
  return { data: null, errors };
}

/** Empty form strings become undefined, so optional fields stay optional. */
export function blankToUndefined<T extends Record<string, unknown>>(values: T): { [K in keyof T]: T[K] | undefined } {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === '' ? undefined : v])) as { [K in keyof T]: T[K] | undefined };
}
