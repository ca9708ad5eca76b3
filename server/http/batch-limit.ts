import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Encoder } from '@trpc/server/adapters/ws';
import { bindHandoff } from '../realtime/frames.js';

const tooMany = (calls: number, limit: number, per: string) =>
  `Too many calls in one ${per}: ${calls} (at most ${limit} per ${per}); send them in smaller batches`;

/**
 * tRPC's batched HTTP calls name every procedure in the path (`/trpc/a,b,c?batch=1`): one request
 * can carry hundreds of calls that run at once. Beyond `limit` the request is refused before any
 * runs, with a tRPC-shaped BAD_REQUEST that says the limit (tRPC's own maxBatchSize does not).
 * Returns true when it answered.
 */
export function refuseOversizedBatch(req: IncomingMessage, res: ServerResponse, limit: number): boolean {
  const url = new URL(req.url ?? '/', 'http://clarion');
  if (url.searchParams.get('batch') !== '1') return false;
  const calls = url.pathname.replace(/^\/trpc\/?/, '').split(',').length;
  if (calls <= limit) return false;
  res.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { message: tooMany(calls, limit, 'request'), code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400, fieldErrors: null } } }));
  return true;
}

/** The reason to refuse a WebSocket text frame that batches more than `limit` calls (wsLink sends arrays), or null. */
export function oversizedFrame(data: string, limit: number): string | null {
  if (!/^\s*\[/.test(data)) return null;
  try {
    const calls = (JSON.parse(data) as unknown[]).length;
    return calls > limit ? tooMany(calls, limit, 'message') : null;
  } catch {
    return null;
  }
}

/**
 * tRPC's JSON encoder for WebSockets, except that a frame batching more than `limit` calls fails to
 * decode, so none of its calls runs (tRPC answers PARSE_ERROR; app.ts then closes the socket). It also
 * binds a live subscription's hand-off frame to its id (server/realtime/frames.ts).
 */
export function limitedJsonEncoder(limit: number): Encoder {
  return {
    encode(data) {
      bindHandoff(data);
      return JSON.stringify(data);
    },
    decode(data) {
      if (typeof data !== 'string') throw new Error('JSON uses text frames');
      const reason = oversizedFrame(data, limit);
      if (reason) throw new Error(reason);
      return JSON.parse(data);
    },
  };
}
