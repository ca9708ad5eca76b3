import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type { IncomingMessage } from 'node:http';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { AuditContext } from '../audit/log.js';
import { type AuthSession, hashToken, resolveSessionByHash } from '../auth/sessions.js';
import type { AppDeps } from '../deps.js';
import { toTRPCError } from '../errors.js';
import { bearerToken, clientIp, userAgent } from '../http/client-info.js';
import type { Logger } from '../logger.js';
import type { RequestMeta } from '../request.js';
import type { EventHub } from '../realtime/hub.js';
import { type SocketIdentity, type SocketRegistry, sameIdentity } from '../realtime/sockets.js';
import type WebSocket from 'ws';

export type { RequestMeta };

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
  /**
   * WebSocket only: the session as it is now. A socket's context is built once at connect, so every
   * call over it re-resolves the session (protectedProcedure) instead of trusting `auth`; `fresh`
   * (mutations, subscription starts) bypasses the session cache.
   */
  currentAuth?: (fresh: boolean) => Promise<AuthSession | null>;
}

/**
 * The session for a token hash: from the cache (queries; at most a second old, and dropped by every
 * control message) or read afresh (`fresh`), the read stored for the next query.
 */
async function resolve(deps: AppDeps, tokenHash: string, fresh: boolean): Promise<AuthSession | null> {
  const cache = deps.sessionCache;
  const hit = fresh ? undefined : cache.get(tokenHash);
  if (hit) return hit;
  const mark = cache.mark();
  // A database outage while resolving the session is a 503 (SERVICE_UNAVAILABLE), not a bare 500.
  const auth = await resolveSessionByHash(deps.db, tokenHash, deps.config.auth.sessionIdleMinutes).catch((err: unknown) => {
    throw toTRPCError(err);
  });
  cache.store(tokenHash, auth, mark);
  return auth;
}

/** One logger per HTTP request and per WebSocket connection, bound to its request id, user and transport. */
async function build(
  deps: AppDeps,
  hub: EventHub,
  req: IncomingMessage,
  transport: 'http' | 'ws',
  tokenHash: string | null,
  fresh: boolean,
): Promise<Omit<Context, 'res' | 'socket'>> {
  const meta: RequestMeta = {
    requestId: (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID(),
    ip: clientIp(req, deps.config.auth.trustProxyHops),
    userAgent: userAgent(req),
    transport,
  };
  const auth = tokenHash ? await resolve(deps, tokenHash, fresh) : null;
  const log = deps.log.child({ reqId: meta.requestId, userId: auth?.user.id, transport });
  return { deps, hub, log, meta, auth };
}

// Longer is never a token we issued (resolveSession refuses it unhashed too).
const hashOf = (token: string | undefined) => (token && token.length <= 256 ? hashToken(token) : null);

export function createHttpContextFactory(deps: AppDeps, hub: EventHub) {
  // Only a query may be answered on a cached session; a mutation (or anything else) reads it afresh.
  return async ({ req, res, info }: CreateHTTPContextOptions): Promise<Context> => ({
    ...(await build(deps, hub, req, 'http', hashOf(bearerToken(req)), info.type !== 'query')),
    res,
  });
}

const identityOf = (auth: AuthSession): SocketIdentity => ({
  sessionId: auth.session.id,
  userId: auth.user.id,
  hospitalId: auth.user.hospitalId,
  role: auth.user.role,
  departmentId: auth.user.departmentId,
});

/**
 * Built once per WebSocket connection, from `connectionParams.token` (or the session cookie), with one
 * logger for the connection. Only the token's hash is kept, to re-resolve the session on every call:
 * a query may be answered from the session cache (a second at most, dropped at once by the control
 * channel, and the TTL alone keeps that bound when Redis is down), a mutation or subscription start
 * reads it afresh. A call that finds the session ended, or the user's role or department changed, is
 * refused with UNAUTHORIZED and the socket is closed.
 */
export function createWsContextFactory(deps: AppDeps, hub: EventHub, sockets: SocketRegistry) {
  return async ({ req, res, info }: CreateWSSContextFnOptions): Promise<Context> => {
    const param = info.connectionParams?.token;
    const tokenHash = hashOf(typeof param === 'string' && param ? param : bearerToken(req));
    const ctx = await build(deps, hub, req, 'ws', tokenHash, true);
    const connected = ctx.auth;
    if (connected) {
      const refused = sockets.bind(res, identityOf(connected));
      if (refused) {
        sockets.refuse(res, refused);
        throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: refused.reason });
      }
    }
    const currentAuth = async (fresh: boolean): Promise<AuthSession | null> => {
      // A socket that connected without a session never gains one (connectionParams come once).
      if (!connected || !tokenHash) return null;
      const now = await resolve(deps, tokenHash, fresh);
      if (now && sameIdentity(identityOf(now), identityOf(connected))) return now;
      sockets.endSession(connected.session.id);
      return null;
    };
    return { ...ctx, socket: res, currentAuth };
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
