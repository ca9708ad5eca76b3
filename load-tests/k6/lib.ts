// Shared helpers for the k6 scripts: plain-JSON tRPC over HTTP (no transformer) and the fixture.
import http, { type RefinedResponse, type ResponseType } from 'k6/http';

export const BASE_URL = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
export const WS_URL = `${BASE_URL.replace(/^http/, 'ws')}/trpc`;

export interface Fixture {
  departments: { id: string; code: string }[];
  /** Session tokens by role; nurses also by department index. */
  operators: string[];
  admins: string[];
  nurses: string[][];
  screens: { token: string; dept: number | null }[];
}

/**
 * The fixture written by `npm run load -- --prepare-k6 <file>` (a fresh database with generated users
 * and open sessions). k6 reads it once in the init context and shares it between VUs.
 */
export function loadFixture(): Fixture {
  const file = __ENV.FIXTURE;
  if (!file) throw new Error('set FIXTURE=<file> (npm run load -- --prepare-k6 <file>)');
  return JSON.parse(open(file)) as Fixture;
}

export interface TrpcResult<T> {
  ok: boolean;
  data?: T;
  code?: string;
  res: RefinedResponse<ResponseType | undefined>;
}

function parse<T>(res: RefinedResponse<ResponseType | undefined>): TrpcResult<T> {
  let body: { result?: { data?: T }; error?: { data?: { code?: string } } } = {};
  try {
    body = JSON.parse(String(res.body)) as typeof body;
  } catch {
    return { ok: false, code: `HTTP_${res.status}`, res };
  }
  if (body.error) return { ok: false, code: body.error.data?.code, res };
  return { ok: true, data: body.result?.data, res };
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A tRPC query: GET /trpc/<path>?input=<json>. Tagged so thresholds can tell queries from mutations. */
export function query<T>(path: string, input: unknown, token: string): TrpcResult<T> {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return parse<T>(http.get(`${BASE_URL}/trpc/${path}${qs}`, { headers: auth(token), tags: { name: path, kind: 'query' } }));
}

/** A tRPC mutation: POST /trpc/<path> with the JSON input as the body. */
export function mutation<T>(path: string, input: unknown, token: string, expected: number[] = [200]): TrpcResult<T> {
  return parse<T>(
    http.post(`${BASE_URL}/trpc/${path}`, JSON.stringify(input), {
      headers: { ...auth(token), 'Content-Type': 'application/json' },
      tags: { name: path, kind: 'mutation' },
      responseCallback: http.expectedStatuses(...expected),
    }),
  );
}

export const pick = <T>(list: T[], i: number): T => list[i % list.length] as T;
