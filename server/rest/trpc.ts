import type { ServerResponse } from 'node:http';
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { toTRPCError } from '../errors.js';
import type { ApiKeyScope } from '../integrations/schemas.js';
import type { KeyCaller } from '../integrations/keys.js';
import { takeRestSlot } from './rate-limit.js';

/** A REST request: the bearer key's caller (null when missing or not valid), and the request (Fetch API) for headers. */
export interface RestContext {
  deps: AppDeps;
  req: Request;
  res: ServerResponse;
  caller: KeyCaller | null;
  ip: string | null;
}

/** The REST error body: `{ error: { code, message, fieldErrors? } }` (handler.ts keeps only this part). */
export interface RestError {
  code: string;
  message: string;
  fieldErrors?: Record<string, string[]>;
}

/**
 * trpc-to-openapi reads the JSON body before it makes the context, and reports a malformed body as an
 * internal error: a SyntaxError with no context yet is the client's body (400), not a server fault.
 */
export const isMalformedBody = (error: TRPCError, ctx: unknown) => ctx === undefined && error.cause instanceof SyntaxError;

const t = initTRPC
  .meta<OpenApiMeta>()
  .context<RestContext>()
  .create({
    errorFormatter({ shape, error, ctx }): { error: RestError } {
      if (isMalformedBody(error, ctx)) return { error: { code: 'PARSE_ERROR', message: 'The body is not valid JSON' } };
      const fieldErrors =
        error.cause instanceof z.ZodError
          ? (z.flattenError(error.cause).fieldErrors as Record<string, string[]>)
          : (error.cause as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors;
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      const message = error.cause instanceof z.ZodError ? 'Input validation failed' : internal ? 'Internal error' : shape.message;
      return { error: { code: error.code, message, ...(fieldErrors ? { fieldErrors } : {}) } };
    },
  });

export const restRouter = t.router;

// Every thrown error goes through the app's one mapping (AppError, Postgres constraint errors → 4xx).
const mapped = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

/**
 * A procedure for callers holding a valid key with `scope`: 401 without one, 403 without the scope,
 * 429 (with Retry-After) past the key's per-minute budget.
 */
export const keyProcedure = (scope: ApiKeyScope) =>
  t.procedure.use(mapped).use(async ({ ctx, next }) => {
    const caller = ctx.caller;
    if (!caller) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Send a valid API key: Authorization: Bearer clk_…' });
    const retryAfter = await takeRestSlot(ctx.deps, caller.keyId);
    if (retryAfter !== null) {
      ctx.res.setHeader('Retry-After', String(retryAfter));
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Rate limit: retry in ${retryAfter} s` });
    }
    if (!caller.scopes.includes(scope)) throw new TRPCError({ code: 'FORBIDDEN', message: `This key lacks the ${scope} scope` });
    return next({ ctx: { caller } });
  });
