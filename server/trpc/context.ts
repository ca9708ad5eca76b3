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
   * call over it re-resolves the session (protectedProcedure) instead of trusting `auth`.
   */
  currentAuth?: () => Promise<AuthSession | null>;
}

const resolve = (deps: AppDeps, tokenHash: string) =>
  // A database outage while resolving the session is a 503 (SERVICE_UNAVAILABLE), not a bare 500.
  resolveSessionByHash(deps.db, tokenHash, deps.config.auth.sessionIdleMinutes).catch((err: unknown) => {
    throw toTRPCError(err);
  });

async function build(deps: AppDeps, hub: EventHub, req: IncomingMessage, transport: 'http' | 'ws', tokenHash: string | null): Promise<Omit<Context, 'res' | 'socket'>> {
  const meta: RequestMeta = {
    requestId: (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID(),
    ip: clientIp(req, deps.config.auth.trustProxyHops),
    userAgent: userAgent(req),
    transport,
  };
  const auth = tokenHash ? await resolve(deps, tokenHash) : null;
  const log = deps.log.child({ reqId: meta.requestId, userId: auth?.user.id, transport });
  return { deps, hub, log, meta, auth };
}

// Longer is never a token we issued (resolveSession refuses it unhashed too).
const hashOf = (token: string | undefined) => (token && token.length <= 256 ? hashToken(token) : null);

export function createHttpContextFactory(deps: AppDeps, hub: EventHub) {
  return async ({ req, res }: CreateHTTPContextOptions): Promise<Context> => ({ ...(await build(deps, hub, req, 'http', hashOf(bearerToken(req)))), res });
}

const identityOf = (auth: AuthSession): SocketIdentity => ({
  sessionId: auth.session.id,
  userId: auth.user.id,
  hospitalId: auth.user.hospitalId,
  role: auth.user.role,
  departmentId: auth.user.departmentId,
});

/**
 * Built once per WebSocket connection, from `connectionParams.token` (or the session cookie). Only the
 * token's hash is kept, to re-resolve the session on every call: a re-read (one indexed query, what
 * every HTTP call costs) rather than a cache, because it stays right when Redis — and with it the
 * control channel that would invalidate a cache — is down. A call that finds the session ended, or
 * the user's role or department changed, is refused with UNAUTHORIZED and the socket is closed.
 */
export function createWsContextFactory(deps: AppDeps, hub: EventHub, sockets: SocketRegistry) {
  return async ({ req, res, info }: CreateWSSContextFnOptions): Promise<Context> => {
    const param = info.connectionParams?.token;
    const tokenHash = hashOf(typeof param === 'string' && param ? param : bearerToken(req));
    const ctx = await build(deps, hub, req, 'ws', tokenHash);
    const connected = ctx.auth;
    if (connected) {
      const refused = sockets.bind(res, identityOf(connected));
      if (refused) {
        sockets.refuse(res, refused);
        throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: refused.reason });
      }
    }
    const currentAuth = async (): Promise<AuthSession | null> => {
      // A socket that connected without a session never gains one (connectionParams come once).
      if (!connected || !tokenHash) return null;
      const now = await resolve(deps, tokenHash);
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
