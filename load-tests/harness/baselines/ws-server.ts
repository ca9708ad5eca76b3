/**
 * Baseline (a): raw `ws` broadcast — the ceiling for Node. Sockets are grouped by department exactly
 * as Clarion's hub groups them; POST /publish?dept=N sends the (already serialised) message to the
 * department's sockets and the whole-hospital ones. No auth, no database, no per-socket encoding.
 */
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { readBody } from './read-body.js';

const groups = new Map<string, Set<WebSocket>>();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') return res.end('ok');
  if (url.pathname !== '/publish' || req.method !== 'POST') {
    res.statusCode = 404;
    return res.end();
  }
  readBody(req).then((body) => {
    let sent = 0;
    for (const key of [url.searchParams.get('dept') ?? '', 'all']) {
      for (const ws of groups.get(key) ?? []) {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(body);
          sent++;
        }
      }
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ sent }));
  });
});

const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const key = new URL(req.url ?? '/', 'http://x').searchParams.get('dept') ?? 'all';
  const set = groups.get(key) ?? new Set();
  groups.set(key, set);
  set.add(ws);
  ws.on('close', () => set.delete(ws));
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
