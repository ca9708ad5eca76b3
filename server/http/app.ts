import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import type { AppDeps } from '../deps.js';
import { DOWNLOAD_PATH, handleExportDownload } from '../exports/download.js';
import { checkReadiness } from '../health/service.js';
import { EventHub } from '../realtime/hub.js';
import { SocketRegistry } from '../realtime/sockets.js';
import { appRouter } from '../router.js';
import { createHttpContextFactory, createWsContextFactory } from '../trpc/context.js';
import { registerBackupGauges } from '../ops/backup-status.js';
import { limitedJsonEncoder, oversizedFrame, refuseOversizedBatch } from './batch-limit.js';
import { clientIp } from './client-info.js';
import { handleDeliveredReceipt, handleRespond, RESPOND_PATH } from './respond.js';
import { handleRest } from '../rest/handler.js';
import { handleFhir } from '../fhir/handler.js';
import { handleTelephonyHook, TELEPHONY_HOOK } from './telephony-hooks.js';
import { handleCors, isAllowedUpgrade, isOperator, isServableStatic, securityConfigOf, setSecurityHeaders, staticCacheHeaders, withoutDetails } from './security.js';

export const MAX_BODY_BYTES = 1_000_000;

export interface App {
  server: Server;
  hub: EventHub;
  wss: WebSocketServer;
  /** Tells WebSocket clients to reconnect elsewhere, then stops accepting and closes. */
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export function createApp(deps: AppDeps, options: { fanoutTickMs?: number } = {}): App {
  const hub = new EventHub(deps, options.fanoutTickMs);
  void hub.start();
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: MAX_BODY_BYTES,
    createContext: createHttpContextFactory(deps, hub),
  });
  const webDir = deps.config.webDistDir;
  // The built web app, in every profile, whenever it has been built (SPA fallback to index.html).
  const web = existsSync(`${webDir}/index.html`) ? sirv(webDir, { single: true, etag: true, gzip: true }) : undefined;

  const security = securityConfigOf(deps.config);
  registerBackupGauges(deps, deps.metrics.registry);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    setSecurityHeaders(req, res, security);
    if (handleCors(req, res, security)) return;
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = await checkReadiness(deps);
      return json(res, ready.ok ? 200 : 503, isOperator(req, security) ? ready : withoutDetails(ready));
    }
    if (path === '/metrics' && req.method === 'GET') {
      if (!isOperator(req, security)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="clarion-metrics"' });
        return res.end(JSON.stringify({ error: 'metrics need the METRICS_TOKEN bearer token' }));
      }
      const { contentType, body } = await deps.metrics.render();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      return res.end(body);
    }
    if (path === '/trpc' || path.startsWith('/trpc/')) {
      if (refuseOversizedBatch(req, res, deps.config.limits.httpMaxBatchSize)) return;
      return trpc(req, res);
    }
    const respond = RESPOND_PATH.exec(path);
    if (respond) return respond[2] ? handleDeliveredReceipt(deps, req, res, respond[1] as string) : handleRespond(deps, req, res, respond[1] as string);
    const hook = TELEPHONY_HOOK.exec(path);
    if (hook) return handleTelephonyHook(deps, req, res, hook[1] as 'status' | 'inbound' | 'gather');
    const download = req.method === 'GET' ? DOWNLOAD_PATH.exec(path) : null;
    if (download) return handleExportDownload(deps, req, res, download[1] as string);
    if (path.startsWith('/api/v1/') || path === '/api/docs') return handleRest(deps, req, res);
    if (path.startsWith('/fhir/')) return handleFhir(deps, req, res);
    if (web && (req.method === 'GET' || req.method === 'HEAD') && isServableStatic(path, security)) {
      staticCacheHeaders(res, path);
      return web(req, res, () => json(res, 404, { error: 'not found' }));
    }
    return json(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      deps.log.error({ err }, 'http handler failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  deps.metrics.gauge('clarion_websocket_connections', 'Open WebSocket connections on this instance', (set) => set(wss.clients.size));
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/trpc' && path !== '/trpc/') {
      socket.destroy();
      return;
    }
    if (!isAllowedUpgrade(req, security)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  // Registered before tRPC's handler: a socket over the caps for unauthenticated ones is closed at once.
  const sockets = new SocketRegistry(deps, deps.config.limits.sockets, (msg) => hub.applyControl(msg));
  hub.afterControl = (msg) => sockets.onControl(msg);
  sockets.start();
  const maxBatch = deps.config.limits.httpMaxBatchSize;
  wss.on('connection', (ws, req) => {
    sockets.accept(ws, clientIp(req, deps.config.auth.trustProxyHops));
    // A frame batching too many calls runs none of them (the encoder refuses it) and closes the socket.
    ws.on('message', (data, isBinary) => {
      const reason = isBinary ? null : oversizedFrame(data.toString(), maxBatch);
      if (reason) sockets.refuse(ws, { code: 4413, reason: reason.slice(0, 120) });
    });
  });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: createWsContextFactory(deps, hub, sockets),
    experimental_encoder: limitedJsonEncoder(maxBatch),
    keepAlive: { enabled: true, pingMs: 15_000, pongWaitMs: 5_000 },
  });

  return {
    server,
    hub,
    wss,
    async close() {
      wsHandler.broadcastReconnectNotification();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          for (const client of wss.clients) client.terminate();
          server.closeAllConnections();
        }, 1_000).unref();
      });
      wss.close();
      sockets.stop();
      await hub.stop();
    },
  };
}
