import { stringifySetCookie } from 'cookie';
import { SESSION_COOKIE } from '../http/client-info.js';
import type { Context } from '../trpc/context.js';
import { protectedProcedure, publicProcedure, router } from '../trpc/trpc.js';
import {
  authUserSchema,
  changePasswordInput,
  disableTwoFactorInput,
  enableTwoFactorInput,
  loginInput,
  loginOutput,
  okOutput,
  setupTwoFactorOutput,
} from './schemas.js';
import { changePassword, login, logout, toUserOutput } from './service.js';
import { disableTwoFactor, enableTwoFactor, setupTwoFactor } from './two-factor.js';

/**
 * The web app may keep the session in an httpOnly cookie (script cannot read it; SameSite=Strict keeps
 * other sites from sending it). API clients use the returned token as a bearer token instead.
 */
function setSessionCookie(ctx: Context, token: string, expiresAt: Date | null): void {
  if (!ctx.res || ctx.res.headersSent) return;
  ctx.res.appendHeader(
    'Set-Cookie',
    stringifySetCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.deps.config.isProduction,
      path: '/',
      ...(expiresAt ? { expires: expiresAt } : { maxAge: 0, expires: new Date(0) }),
    }),
  );
}

export const authRouter = router({
  login: publicProcedure
    .input(loginInput)
    .output(loginOutput)
    .mutation(async ({ ctx, input }) => {
      const result = await login(ctx.deps, ctx.meta, input);
      if (result.status === 'ok') setSessionCookie(ctx, result.token, new Date(result.expiresAt));
      return result;
    }),

  logout: protectedProcedure.output(okOutput).mutation(async ({ ctx }) => {
    await logout(ctx.deps, ctx.meta, ctx.auth);
    setSessionCookie(ctx, '', null);
    return { ok: true as const };
  }),

  me: protectedProcedure.output(authUserSchema).query(({ ctx }) => toUserOutput(ctx.auth.user)),

  changePassword: protectedProcedure
    .input(changePasswordInput)
    .output(okOutput)
    .mutation(async ({ ctx, input }) => {
      await changePassword(ctx.deps, ctx.meta, ctx.auth, input);
      return { ok: true as const };
    }),

  setupTwoFactor: protectedProcedure.output(setupTwoFactorOutput).mutation(({ ctx }) => setupTwoFactor(ctx.deps, ctx.meta, ctx.auth)),

  enableTwoFactor: protectedProcedure
    .input(enableTwoFactorInput)
    .output(okOutput)
    .mutation(async ({ ctx, input }) => {
      await enableTwoFactor(ctx.deps, ctx.meta, ctx.auth, input.totp);
      return { ok: true as const };
    }),

  disableTwoFactor: protectedProcedure
    .input(disableTwoFactorInput)
    .output(okOutput)
    .mutation(async ({ ctx, input }) => {
      await disableTwoFactor(ctx.deps, ctx.meta, ctx.auth, input);
      return { ok: true as const };
    }),
});
