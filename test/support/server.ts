import type { AddressInfo } from 'node:net';
import { createTRPCClient, createWSClient, httpLink, splitLink, wsLink } from '@trpc/client';
import { afterAll } from 'vitest';
import { WebSocket } from 'ws';
import { createApp } from '../../server/http/app.js';
import type { AppRouter } from '../../server/router.js';
import type { TestEnv } from './env.js';

export interface TestServer {
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** The real HTTP + WebSocket server on a free port, over this file's database and Redis prefix. */
export async function startTestServer(env: TestEnv): Promise<TestServer> {
  const app = createApp(env.deps);
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const { port } = app.server.address() as AddressInfo;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  afterAll(close);
  return { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/trpc`, close };
}

/** A typed client speaking the plain-JSON wire format, as outside clients do. */
export function clientFor(server: Pick<TestServer, 'url' | 'wsUrl'>, token?: string) {
  const wsClient = createWSClient({
    url: server.wsUrl,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    lazy: { enabled: true, closeMs: 0 },
    connectionParams: () => (token ? { token } : {}),
    retryDelayMs: () => 100,
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpLink({ url: `${server.url}/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) }),
      }),
    ],
  });
  afterAll(() => wsClient.close());
  return client;
}
