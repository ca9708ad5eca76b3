import type { AddressInfo } from 'node:net';
import { createTRPCClient, createWSClient, httpLink, splitLink, wsLink } from '@trpc/client';
import { afterAll } from 'vitest';
import { WebSocket } from 'ws';
import { createDeps, closeDeps } from '../../server/deps.js';
import { type App, createApp } from '../../server/http/app.js';
import type { AppRouter } from '../../server/router.js';
import type { TestEnv } from './env.js';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

/**
 * The real HTTP + WebSocket server on a free port, over this file's database and Redis prefix.
 * `separate: true` gives it its own pool and Redis connections, as a second instance would have.
 */
export async function startTestServer(env: TestEnv, options: { separate?: boolean; fanoutTickMs?: number } = {}): Promise<TestServer> {
  const deps = options.separate ? createDeps(env.config, env.deps.log) : env.deps;
  const app = createApp(deps, { fanoutTickMs: options.fanoutTickMs });
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const { port } = app.server.address() as AddressInfo;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    if (deps !== env.deps) await closeDeps(deps);
  };
  afterAll(close);
  return { app, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/trpc`, close };
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

type Client = ReturnType<typeof clientFor>;
type OnEventData = { id: string; data: { id: string; type: string; alert: { id: string; departmentId: string; hospitalId: string; status: string; escalationLevel: number } } };

export interface Collector {
  events: OnEventData['data'][];
  errors: { code?: string; message: string }[];
  started: Promise<void>;
  /** Resolves when `predicate` holds for the collected events (rejects after `ms`). */
  until(predicate: (events: OnEventData['data'][]) => boolean, ms?: number): Promise<void>;
  stop(): void;
}

/** Subscribes to alerts.onEvent and collects what arrives. */
export function collectEvents(client: Client, input?: { lastEventId?: string }): Collector {
  const events: Collector['events'] = [];
  const errors: Collector['errors'] = [];
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => {
    markStarted = r;
  });
  const sub = client.alerts.onEvent.subscribe(input, {
    onStarted: () => markStarted(),
    onData: (d) => events.push((d as unknown as OnEventData).data),
    onError: (err) => errors.push({ code: (err as { data?: { code?: string } }).data?.code, message: err.message }),
  });
  return {
    events,
    errors,
    started,
    async until(predicate, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!predicate(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; have ${events.length} events: ${events.map((e) => `${e.id}:${e.type}`).join(', ')}; errors: ${JSON.stringify(errors)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => sub.unsubscribe(),
  };
}
