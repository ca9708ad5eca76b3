import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { AuditContext } from '../audit/log.js';
import { type AuthSession, resolveSession } from '../auth/sessions.js';
import type { AppDeps } from '../deps.js';
import { toTRPCError } from '../errors.js';
import { bearerToken, clientIp, userAgent } from '../http/client-info.js';
import type { Logger } from '../logger.js';
import type { EventHub } from '../realtime/hub.js';
import type WebSocket from 'ws';

export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string | null;
  transport: 'http' | 'ws';
}

export interface Context {
  deps: AppDeps;
  log: Logger;
  meta: RequestMeta;
  /** Null when the request carried no valid session. */
  auth: AuthSession | null;
  /** This process's fan-out of alert events to live subscriptions. */
  hub: EventHub;
  /** The HTTP response, for cookies. */
  res?: CreateHTTPContextOptions['res'];
  /** The WebSocket, for subscriptions that must watch their send buffer. */
  socket?: WebSocket;
}

async function build(deps: AppDeps, hub: EventHub, req: IncomingMessage, transport: 'http' | 'ws', token: string | undefined): Promise<Omit<Context, 'res' | 'socket'>> {
  const meta: RequestMeta = {
    requestId: (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID(),
    ip: clientIp(req, deps.config.auth.trustProxyHops),
    userAgent: userAgent(req),
    transport,
  };
  // A database outage while resolving the session is a 503 (SERVICE_UNAVAILABLE), not a bare 500.
  const auth = token
    ? await resolveSession(deps.db, token, deps.config.auth.sessionIdleMinutes).catch((err: unknown) => {
        throw toTRPCError(err);
      })
    : null;
  const log = deps.log.child({ reqId: meta.requestId, userId: auth?.user.id, transport });
  return { deps, hub, log, meta, auth };
}

export function createHttpContextFactory(deps: AppDeps, hub: EventHub) {
  return async ({ req, res }: CreateHTTPContextOptions): Promise<Context> => ({ ...(await build(deps, hub, req, 'http', bearerToken(req))), res });
}

/** Built once per WebSocket connection, from `connectionParams.token` (or the session cookie). */
export function createWsContextFactory(deps: AppDeps, hub: EventHub) {
  return async ({ req, res, info }: CreateWSSContextFnOptions): Promise<Context> => {
    const param = info.connectionParams?.token;
    return { ...(await build(deps, hub, req, 'ws', typeof param === 'string' && param ? param : bearerToken(req))), socket: res };
  };
}

/** The audit fields of the caller, for logAuditEvent. */
export function auditContextOf(ctx: Pick<Context, 'auth' | 'meta'>): AuditContext {
  return {
    userId: ctx.auth?.user.id ?? null,
    hospitalId: ctx.auth?.user.hospitalId ?? null,
    ip: ctx.meta.ip,
    userAgent: ctx.meta.userAgent,
    sessionId: ctx.auth?.session.id ?? null,
  };
}
