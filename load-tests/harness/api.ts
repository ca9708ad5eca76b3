/** Plain-JSON tRPC over HTTP with keep-alive (DESIGN.md: no transformer; queries GET ?input=, mutations POST). */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface CallResult {
  ok: boolean;
  status: number;
  ms: number;
  data?: unknown;
  /** tRPC error code (e.g. CONFLICT), or a transport error. */
  code?: string;
  message?: string;
}

function httpCall(method: 'GET' | 'POST', url: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Calls a tRPC procedure; never throws (a failure is a result with ok=false). */
export async function trpc(baseUrl: string, kind: 'query' | 'mutation', path: string, input: unknown, token?: string): Promise<CallResult> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const t0 = performance.now();
  try {
    const res =
      kind === 'query'
        ? await httpCall('GET', `${baseUrl}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, undefined, headers)
        : await httpCall('POST', `${baseUrl}/trpc/${path}`, JSON.stringify(input ?? null), headers);
    const ms = performance.now() - t0;
    let parsed: { result?: { data?: unknown }; error?: { message?: string; data?: { code?: string } } } = {};
    try {
      parsed = JSON.parse(res.text);
    } catch {
      return { ok: false, status: res.status, ms, code: `HTTP_${res.status}`, message: res.text.slice(0, 200) };
    }
    if (parsed.error) return { ok: false, status: res.status, ms, code: parsed.error.data?.code ?? `HTTP_${res.status}`, message: parsed.error.message };
    return { ok: true, status: res.status, ms, data: parsed.result?.data };
  } catch (err) {
    return { ok: false, status: 0, ms: performance.now() - t0, code: 'TRANSPORT', message: err instanceof Error ? err.message : String(err) };
  }
}

/** POST a raw body (baseline servers' /publish). */
export async function postRaw(url: string, body: string): Promise<CallResult> {
  const t0 = performance.now();
  try {
    const res = await httpCall('POST', url, body, {});
    return { ok: res.status === 200, status: res.status, ms: performance.now() - t0, code: res.status === 200 ? undefined : `HTTP_${res.status}` };
  } catch (err) {
    return { ok: false, status: 0, ms: performance.now() - t0, code: 'TRANSPORT', message: err instanceof Error ? err.message : String(err) };
  }
}

/** A missing procedure (another issue not merged yet) answers NOT_FOUND "No procedure found". */
export const isMissingProcedure = (r: CallResult) => r.code === 'NOT_FOUND' && /no procedure/i.test(r.message ?? '');

export function closeAgent(): void {
  agent.destroy();
}
