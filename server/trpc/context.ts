import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import type { AuditContext } from '../audit/log.js';
import { type AuthSession, resolveSession } from '../auth/sessions.js';
import type { AppDeps } from '../deps.js';
import { bearerToken, clientIp, userAgent } from '../http/client-info.js';
import type { Logger } from '../logger.js';

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
  /** The raw request, for response cookies on HTTP. */
  res?: CreateHTTPContextOptions['res'];
}

async function build(deps: AppDeps, req: IncomingMessage, transport: 'http' | 'ws', token: string | undefined): Promise<Omit<Context, 'res'>> {
  const meta: RequestMeta = {
    requestId: (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID(),
    ip: clientIp(req, deps.config.auth.trustProxyHops),
    userAgent: userAgent(req),
    transport,
  };
  const auth = token ? await resolveSession(deps.db, token, deps.config.auth.sessionIdleMinutes) : null;
  const log = deps.log.child({ reqId: meta.requestId, userId: auth?.user.id, transport });
  return { deps, log, meta, auth };
}

export function createHttpContextFactory(deps: AppDeps) {
  return async ({ req, res }: CreateHTTPContextOptions): Promise<Context> => ({ ...(await build(deps, req, 'http', bearerToken(req))), res });
}

/** Built once per WebSocket connection, from `connectionParams.token` (or the session cookie). */
export function createWsContextFactory(deps: AppDeps) {
  return async ({ req, info }: CreateWSSContextFnOptions): Promise<Context> => {
    const param = info.connectionParams?.token;
    return build(deps, req, 'ws', typeof param === 'string' && param ? param : bearerToken(req));
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
