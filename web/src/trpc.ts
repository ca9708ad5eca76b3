import { createTRPCClient, createWSClient, httpBatchLink, splitLink, type TRPCLink, wsLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/router.js';
import { reconnectDelayMs } from './lib/reconnect.js';

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;

export interface ClientOptions {
  getToken: () => string | null;
  /** An UNAUTHORIZED answer anywhere but sign-in and account setup: the session expired or was revoked. */
  onUnauthorized: () => void;
}

// Procedures whose UNAUTHORIZED answer is about what was typed or linked, not about the session.
const CREDENTIAL_PATHS = new Set(['auth.login', 'accounts.getSetupInfo', 'accounts.completeSetup']);

/** Calls onUnauthorized for any UNAUTHORIZED error (HTTP or subscription), then passes the error on. */
function unauthorizedLink(onUnauthorized: () => void): TRPCLink<AppRouter> {
  return () =>
    ({ next, op }) =>
      observable((observer) =>
        next(op).subscribe({
          next: (value) => observer.next(value),
          error: (err) => {
            if (err.data?.code === 'UNAUTHORIZED' && !CREDENTIAL_PATHS.has(op.path)) onUnauthorized();
            observer.error(err);
          },
          complete: () => observer.complete(),
        }),
      );
}

/** Queries and mutations over batched HTTP; subscriptions over one WebSocket with keep-alive. */
export function createClient({ getToken, onUnauthorized }: ClientOptions) {
  const wsClient = createWSClient({
    url: wsUrl,
    lazy: { enabled: true, closeMs: 10_000 },
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    retryDelayMs: reconnectDelayMs,
    connectionParams: () => ({ token: getToken() ?? '' }),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      unauthorizedLink(onUnauthorized),
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({
          url: '/trpc',
          // The server refuses batches over HTTP_MAX_BATCH_SIZE (default 50): stay well below it.
          maxItems: 20,
          headers: () => {
            const token = getToken();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });
  return { client, wsClient };
}
