import type { IncomingMessage, ServerResponse } from 'node:http';

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
  const message = `Too many calls in one batch: ${calls} (at most ${limit} per request); send them in smaller batches`;
  res.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { message, code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400, fieldErrors: null } } }));
  return true;
}
