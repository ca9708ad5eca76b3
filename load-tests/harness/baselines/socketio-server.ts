/**
 * Baseline (b): what a Node team would otherwise build — Socket.IO with @socket.io/redis-adapter,
 * a room per department plus one for whole-hospital screens, several instances sharing Redis.
 * POST /publish?dept=N emits the event to that department's room and the hospital room.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { readBody } from './read-body.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { transports: ['websocket'], adapter: createAdapter(pub, sub, { key: process.env.SIO_KEY ?? 'clarion-load-sio' }) });

io.on('connection', (socket) => {
  const dept = String(socket.handshake.query.dept ?? 'all');
  socket.join(dept === 'all' ? 'all' : `d${dept}`);
  socket.emit('joined');
});

http.on('request', (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') return res.end('ok');
  if (url.pathname !== '/publish' || req.method !== 'POST') {
    // socket.io answers its own /socket.io/ requests on this server.
    if (!url.pathname.startsWith('/socket.io')) {
      res.statusCode = 404;
      res.end();
    }
    return;
  }
  readBody(req).then((body) => {
    io.to([`d${url.searchParams.get('dept')}`, 'all']).emit('event', JSON.parse(body));
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => {
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
