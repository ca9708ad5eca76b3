import { QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../../server/router.js';
import { createClient } from '../trpc.js';
import { session } from './session.js';
import { readable } from './validate.js';

export const SESSION_ENDED = 'Your session has ended. Please sign in again.';

/** One client for the whole app: one WebSocket shared by every live view. */
export const { client, wsClient } = createClient({
  getToken: session.token,
  onUnauthorized: () => {
    if (session.get().token) session.end(SESSION_ENDED);
  },
});

export const queryClient = new QueryClient({
  queryCache: new QueryCache(),
  defaultOptions: {
    queries: { retry: (count, err) => count < 2 && !isClientError(err), refetchOnWindowFocus: false, staleTime: 5_000 },
    mutations: { retry: false },
  },
});

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

function isClientError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && code !== 'INTERNAL_SERVER_ERROR';
}

export function errorCode(err: unknown): string | undefined {
  return (err as { data?: { code?: string } } | null)?.data?.code;
}

/** Field messages the server sent (zod failures are BAD_REQUEST with data.fieldErrors). */
export function serverFieldErrors(err: unknown): Record<string, string> {
  const fe = (err as { data?: { fieldErrors?: Record<string, string[]> | null } } | null)?.data?.fieldErrors ?? {};
  return Object.fromEntries(Object.entries(fe).map(([k, v]) => [k, readable(v[0] ?? 'Check this value')]));
}

export function errorMessage(err: unknown): string {
  if (!err) return '';
  const msg = (err as { message?: string }).message ?? String(err);
  return msg.startsWith('[') ? 'Please check the highlighted fields' : readable(msg);
}

// The WebSocket authenticates once, at connect, with the token of that moment: when the session
// changes (sign-in, sign-out, expiry), close it so the next subscription connects as the new user.
let lastToken = session.token();
session.subscribe(() => {
  const token = session.token();
  if (token === lastToken) return;
  lastToken = token;
  void wsClient.close();
  queryClient.clear();
});
