import { initTRPC, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { toTRPCError } from '../errors.js';
import { lazyChild } from '../logger.js';
import { type Permission, can } from '../permissions.js';
import { logAuditEvent } from '../audit/log.js';
import { pendingAccountStep } from '../auth/gate.js';
import { auditContextOf, type Context } from './context.js';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error, ctx }) {
    const fieldErrors =
      error.cause instanceof z.ZodError
        ? (z.flattenError(error.cause).fieldErrors as Record<string, string[]>)
        : (error.cause as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors;
    const dev = ctx?.deps.config.profile === 'development';
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      // A zod failure says what was wrong with which field; internal errors say nothing more.
      message: error.code === 'INTERNAL_SERVER_ERROR' && !dev ? 'Internal error' : shape.message,
      data: { ...data, ...(dev && shape.data.stack ? { stack: shape.data.stack } : {}), fieldErrors: fieldErrors ?? null },
    };
  },
});

/**
 * Maps every thrown error in one place, and logs each call with its duration. The context's logger is
 * the connection's (WebSocket) or the request's (HTTP), bound to its request id, user and transport;
 * the lines written here add the procedure as a field, and the handler gets a child with it that is
 * made only if the handler writes a line (no pino child per call over a long-lived socket).
 */
const observed = t.middleware(async ({ ctx, path, type, next }) => {
  const started = performance.now();
  const result = await next({ ctx: { log: lazyChild(ctx.log, { procedure: path }) } });
  const log = ctx.log;
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const metrics = ctx.deps.metrics;
  if (!result.ok) {
    const mapped = toTRPCError(result.error);
    metrics.procedureErrors.inc({ procedure: path, code: mapped.code });
    if (type !== 'subscription') metrics.procedureDuration.observe({ procedure: path, type, outcome: 'error' }, ms / 1000);
    if (mapped.code === 'INTERNAL_SERVER_ERROR') log.error({ procedure: path, err: result.error.cause ?? result.error, ms, type }, 'procedure failed');
    else log.info({ procedure: path, code: mapped.code, ms, type }, 'procedure refused');
    if (mapped !== result.error) return { ...result, error: mapped };
  } else if (type !== 'subscription') {
    metrics.procedureDuration.observe({ procedure: path, type, outcome: 'ok' }, ms / 1000);
    log.debug({ procedure: path, ms, type }, 'procedure ok');
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(observed);

// Until they have done what they must, users may only reach the auth router (to change their password
// or set up 2FA, see who they are, or log out).
const gated = (path: string) => !path.startsWith('auth.');

export const protectedProcedure = publicProcedure.use(async ({ ctx, path, type, next }) => {
  // Over a WebSocket the session is re-resolved on every call (and subscription start): the context
  // was built at connect, and the session may have ended or the user changed since (context.ts).
  // Queries may take it from the session cache; mutations and subscription starts read it afresh.
  const auth = ctx.currentAuth ? await ctx.currentAuth(type !== 'query') : ctx.auth;
  if (!auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: ctx.currentAuth && ctx.auth ? 'Your session has ended; sign in again' : 'Sign in to continue' });
  const pending = gated(path) ? pendingAccountStep(auth.user) : null;
  if (pending) throw new TRPCError({ code: 'FORBIDDEN', message: pending });
  // No logger of its own: the context's is already bound to this user (HTTP resolved it for the
  // request; a socket's re-check refuses any session that is not the connected user's).
  const result = await next({ ctx: { auth } });
  // A mutation may have changed its own caller (name, 2FA, password): the next query reads afresh.
  if (type === 'mutation') ctx.deps.sessionCache.forgetSession(auth.session.id);
  return result;
});

/** A procedure for a role permission, checked before the input is looked at (so it reveals nothing). */
export const permissionProcedure = (permission: Permission) =>
  protectedProcedure.use(async ({ ctx, path, next }) => {
    if (!can(ctx.auth.user.role, permission)) {
      // A refused attempt is part of the HIPAA trail: written in its own statement; a failure to write
      // it is logged and the caller still gets FORBIDDEN.
      try {
        await logAuditEvent(ctx.deps.db, auditContextOf(ctx), {
          action: 'access.denied',
          resource: 'procedure',
          resourceId: path,
          outcome: 'failure',
          metadata: { permission, role: ctx.auth.user.role },
        });
      } catch (err) {
        ctx.log.error({ err }, 'could not audit a refused call');
      }
      throw new TRPCError({ code: 'FORBIDDEN', message: 'Your role may not do this' });
    }
    return next();
  });
