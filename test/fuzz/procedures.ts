import fc from 'fast-check';
import type pg from 'pg';
import { z } from 'zod';
import { appRouter } from '../../server/router.js';

/**
 * Shared by the fuzz and isolation sweeps: every procedure, read from the router itself, so a procedure
 * added later is covered without anyone editing these tests.
 */
export interface ProcedureInfo {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  /** Top-level property names of the input schema (empty for no or non-object input). */
  keys: string[];
  /** The input's JSON schema (io: input), for id-looking fields. */
  jsonSchema: Record<string, unknown> | null;
}

type AnyDef = { type: ProcedureInfo['type']; inputs: z.ZodType[] };

export function listProcedures(): ProcedureInfo[] {
  const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: AnyDef }> } })._def.procedures;
  return Object.entries(procedures).map(([path, p]) => {
    const schema = p._def.inputs[0];
    let jsonSchema: Record<string, unknown> | null = null;
    try {
      jsonSchema = schema ? (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>) : null;
    } catch {
      jsonSchema = null;
    }
    return { path, type: p._def.type, keys: Object.keys(objectSchema(jsonSchema)?.properties ?? {}), jsonSchema };
  });
}

/** The object schema inside an optional/nullable wrapper (anyOf with null), if any. */
export function objectSchema(s: Record<string, unknown> | null): { properties?: Record<string, Record<string, unknown>> } | null {
  if (!s) return null;
  if (s.type === 'object') return s as { properties?: Record<string, Record<string, unknown>> };
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = s[k] as Record<string, unknown>[] | undefined;
    const found = list?.map((x) => objectSchema(x)).find(Boolean);
    if (found) return found;
  }
  return null;
}

/** Answer of one raw call: HTTP status and the tRPC error code, if any. */
export interface CallResult {
  status: number;
  code?: string;
  body: unknown;
}

/** Calls a procedure over plain HTTP exactly as an outside client would (GET ?input= for queries, POST for mutations). */
export async function callRaw(baseUrl: string, path: string, type: 'query' | 'mutation', input: unknown, token?: string, rawBody?: string): Promise<CallResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const encoded = rawBody ?? (input === undefined ? undefined : JSON.stringify(input));
  const res =
    type === 'query'
      ? await fetch(`${baseUrl}/trpc/${path}${encoded === undefined ? '' : `?input=${encodeURIComponent(encoded)}`}`, { headers })
      : await fetch(`${baseUrl}/trpc/${path}`, { method: 'POST', headers, body: encoded ?? '' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. 413/431 from Node)
  }
  const code = (body as { error?: { data?: { code?: string } } })?.error?.data?.code;
  return { status: res.status, code, body };
}

/** Row count of every table, in one statement. */
export async function rowCounts(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows: tables } = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  const sql = tables.map(({ t }) => `SELECT '${t}' AS t, count(*)::int AS n FROM "${t}"`).join(' UNION ALL ');
  const { rows } = await pool.query<{ t: string; n: number }>(sql);
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

// ---- input generators -------------------------------------------------------------------------

const oddStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF\uD800',
  '\u202Eevil',
  '\u200B\u200C\u200D\uFEFF',
  'ﷺ𝕏🩺👩🏽‍⚕️',
  'Ä'.normalize('NFD'),
  "'; DROP TABLE users; --",
  '%00%ff',
  '../../../etc/passwd',
  '<script>alert(1)</script>',
  '-1',
  '0',
  '1e309',
  'NaN',
  '99999999999999999999999999',
  '2026-02-30T25:61:00Z',
  '00000000-0000-0000-0000-000000000000',
  '__proto__',
];

const oddString = fc.oneof(
  fc.constantFrom(...oddStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

const oddNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, -1, 2 ** 53, -(2 ** 63), 1e308, 0.5));

/** Deeply nested arrays or objects. */
const deep = fc.integer({ min: 50, max: 3_000 }).chain((depth) =>
  fc.constantFrom('array', 'object').map((kind) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
    return v;
  }),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(oddString, oddNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
const anyValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 6, arbitrary: leaf }, { weight: 1, arbitrary: deep }, { weight: 2, arbitrary: fc.array(leaf, { maxLength: 5 }) });

/** Inputs for one procedure: random values, and objects with its own keys holding wrong or odd values. */
export function inputArbitrary(keys: string[]): fc.Arbitrary<unknown> {
  const shaped = keys.length
    ? fc.dictionary(fc.constantFrom(...keys, '__proto__', 'constructor', 'extra'), anyValue, { maxKeys: keys.length + 2 })
    : fc.dictionary(fc.string({ maxLength: 8 }), anyValue, { maxKeys: 3 });
  return fc.oneof({ weight: 5, arbitrary: shaped }, { weight: 2, arbitrary: anyValue }, { weight: 1, arbitrary: fc.array(shaped, { maxLength: 3 }) });
}

/** Bodies that are not JSON at all. */
export const garbageBodies = ['{', '}', '[', '"', 'undefined', '{"a":}', '\u0000\u0001\u0002', '{"__proto__":{"admin":true}}', '%7B', 'null'.repeat(1000)];
