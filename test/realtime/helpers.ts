import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { eq } from 'drizzle-orm';
import { afterAll } from 'vitest';
import { WebSocket } from 'ws';
import { hashPassword } from '../../server/auth/passwords.js';
import { createSession } from '../../server/auth/sessions.js';
import { users } from '../../server/db/schema.js';
import type { Role } from '../../server/permissions.js';
import type { AppRouter } from '../../server/router.js';
import type { TestEnv } from '../support/env.js';
import type { TestServer } from '../support/server.js';
import type { Tenants } from '../support/tenants.js';

export interface SocketClient {
  client: ReturnType<typeof createTRPCClient<AppRouter>>;
  /** Close events this client's WebSocket saw (code and reason), in order. */
  closes: { code: number; reason: string }[];
  opens: number;
  close(): Promise<void>;
}

/**
 * A client whose every call — query, mutation and subscription — goes over one WebSocket (no HTTP
 * link), as an integration or a board that keeps everything on its socket would. Lazy, with a long
 * idle close, so the socket stays open until the server closes it.
 */
export function socketClient(server: Pick<TestServer, 'wsUrl'>, token?: string, headers?: Record<string, string>): SocketClient {
  const closes: SocketClient['closes'] = [];
  const state = { opens: 0 };
  class HeaderSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, headers ? { headers } : {});
    }
  }
  const wsClient = createWSClient({
    url: server.wsUrl,
    WebSocket: HeaderSocket as unknown as typeof globalThis.WebSocket,
    lazy: { enabled: true, closeMs: 120_000 },
    connectionParams: () => (token ? { token } : {}),
    retryDelayMs: () => 100,
    onOpen: () => {
      state.opens++;
    },
    onClose: (e) => closes.push({ code: e?.code ?? 0, reason: (e as { reason?: string } | undefined)?.reason ?? '' }),
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  afterAll(() => wsClient.close());
  return {
    client,
    closes,
    get opens() {
      return state.opens;
    },
    close: () => wsClient.close(),
  };
}

/** Polls until `predicate` holds (rejects after `ms`). */
export async function eventually(predicate: () => boolean | Promise<boolean>, ms = 2_000, what = 'condition'): Promise<number> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

let n = 0;
export const PASSWORD = 'Correct-horse-battery-9';

/** A fresh user of the general hospital with a known password (its own, so tests may end its sessions). */
export async function freshUser(env: TestEnv, t: Tenants, role: Role = 'nurse') {
  const hospital = t.hospital.general;
  const tag = `${++n}.${Date.now().toString(36)}`;
  const [row] = await env.deps.db
    .insert(users)
    .values({
      hospitalId: hospital.id,
      departmentId: role === 'nurse' || role === 'doctor' ? hospital.departments.ICU : null,
      email: `socket${tag}@general.test`,
      name: `Socket ${role} ${tag}`,
      role,
      passwordHash: await hashPassword(PASSWORD),
      emailVerified: true,
    })
    .returning({ id: users.id, email: users.email, hospitalId: users.hospitalId });
  const user = row as { id: string; email: string; hospitalId: string };
  return { ...user, token: () => sessionFor(env, user) };
}

export async function sessionFor(env: TestEnv, user: { id: string; hospitalId: string }): Promise<string> {
  const { token } = await createSession(env.deps.db, { userId: user.id, hospitalId: user.hospitalId, hours: 1, ip: '127.0.0.1', userAgent: 'test', twoFactorVerified: true });
  return token;
}

export async function userRow(env: TestEnv, id: string) {
  const [row] = await env.deps.db.select({ role: users.role, isActive: users.isActive, departmentId: users.departmentId }).from(users).where(eq(users.id, id));
  return row;
}

/** One parsed tRPC JSON-RPC message from the server, with its raw text. */
export interface RawMessage {
  text: string;
  id: number;
  result?: { type: string; id?: string };
  error?: { message: string; data?: { code?: string } };
}

export interface RawTrpcSocket {
  ws: WebSocket;
  subscribe(id: number, opts?: { lastEventId?: string; jsonrpc?: boolean }): void;
}

/**
 * tRPC's JSON-RPC over a raw WebSocket (authenticated with connectionParams), answering keep-alive
 * pings as wsLink does: the test sees each message's exact text and decides when, and whether, it reads.
 */
export async function rawTrpcSocket(server: Pick<TestServer, 'wsUrl'>, token: string, onMessage: (msg: RawMessage) => void): Promise<RawTrpcSocket> {
  const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  ws.on('message', (raw, isBinary) => {
    if (isBinary) throw new Error('tRPC sent a binary frame');
    const text = raw.toString();
    if (text === 'PING') ws.send('PONG');
    if (text === 'PING' || text === 'PONG') return;
    onMessage({ text, ...(JSON.parse(text) as Omit<RawMessage, 'text'>) });
  });
  return {
    ws,
    subscribe(id, opts = {}) {
      const input = opts.lastEventId === undefined ? {} : { lastEventId: opts.lastEventId };
      ws.send(JSON.stringify({ id, ...(opts.jsonrpc ? { jsonrpc: '2.0' } : {}), method: 'subscription', params: { path: 'alerts.onEvent', input } }));
    },
  };
}
