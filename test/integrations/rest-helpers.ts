import { sql } from 'drizzle-orm';
import type { TestEnv } from '../support/env.js';
import type { TestServer } from '../support/server.js';

export interface RestAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, checked by the tests' matchers
  body: any;
  headers: Headers;
}

/** One REST call as an integrator's curl makes it: JSON body, bearer key, optional extra headers. */
export async function rest(server: Pick<TestServer, 'url'>, method: string, path: string, opts: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<RestAnswer> {
  const headers: Record<string, string> = { ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}), ...opts.headers };
  const hasBody = opts.body !== undefined || opts.raw !== undefined;
  if (hasBody && !('content-type' in headers)) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, { method, headers, body: hasBody ? (opts.raw ?? JSON.stringify(opts.body)) : undefined });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
}

/** What a REST call can write: alert rows, their events, stored idempotency answers. */
export async function writes(env: TestEnv): Promise<string> {
  const { rows } = await env.deps.db.execute(sql`SELECT
    (SELECT count(*) FROM alerts) AS alerts, (SELECT max(version) FROM alerts) AS versions,
    (SELECT count(*) FROM alert_events) AS events, (SELECT count(*) FROM idempotency_keys) AS idem`);
  return JSON.stringify(rows[0]);
}
