import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { callRaw, garbageBodies, inputArbitrary, listProcedures, rowCounts } from './procedures.js';

// Malformed-input fuzzing of every procedure the router has (enumerated, so new ones are covered):
// never a 5xx, and a rejected call changes no table. audit_logs is left out of the comparison on
// purpose: refused actions are audited (in their own transaction) by design. So is login_failures: a
// refused sign-in or password check is counted there by design (issue 13 item 14).

let env: TestEnv;
let server: TestServer;
let t: Tenants;

const RUNS_ADMIN = Number(process.env.FUZZ_RUNS ?? 12);
const RUNS_ANON = Math.max(3, Math.round(RUNS_ADMIN / 3));
const procedures = listProcedures();
const callable = procedures.filter((p) => p.type !== 'subscription') as (ReturnType<typeof listProcedures>[number] & { type: 'query' | 'mutation' })[];

const withoutAudit = (c: Record<string, number>) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'audit_logs' && k !== 'login_failures'));

beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
  server = await startTestServer(env);
});

async function fuzz(path: string, type: 'query' | 'mutation', token: () => Promise<string | undefined>, runs: number) {
  await fc.assert(
    fc.asyncProperty(inputArbitrary(callable.find((p) => p.path === path)?.keys ?? []), async (input) => {
      const before = withoutAudit(await rowCounts(env.deps.pool));
      const r = await callRaw(server.url, path, type, input, await token());
      const problem = `${path} answered ${r.status} ${r.code ?? ''} for ${JSON.stringify(input)?.slice(0, 300)}: ${JSON.stringify(r.body).slice(0, 300)}`;
      expect(r.status, problem).toBeLessThan(500);
      expect(r.code, problem).not.toBe('INTERNAL_SERVER_ERROR');
      if (r.status >= 400) expect(withoutAudit(await rowCounts(env.deps.pool)), `${problem} changed the database`).toEqual(before);
    }),
    { numRuns: runs, endOnFailure: true },
  );
}

describe('every procedure, fuzzed over real HTTP', () => {
  it('the router has the procedures the sweep expects to find', () => {
    expect(procedures.length).toBeGreaterThan(30);
    expect(procedures.map((p) => p.path)).toContain('alerts.create');
  });

  it.each(callable.map((p) => [p.path, p.type] as const))('%s as an admin: never a 5xx, no change on rejection', async (path, type) => {
    // A session of its own per procedure: auth.logout (or a role change) must not end the sweep's session.
    const token = await t.token('general', 'admin');
    await fuzz(path, type, async () => token, RUNS_ADMIN);
  });

  it.each(callable.map((p) => [p.path, p.type] as const))('%s anonymously: never a 5xx, no change on rejection', async (path, type) => {
    await fuzz(path, type, async () => undefined, RUNS_ANON);
  });

  it('bodies that are not JSON are refused with 4xx', async () => {
    const token = await t.token('general', 'admin');
    for (const p of callable) {
      for (const body of garbageBodies) {
        const r = await callRaw(server.url, p.path, p.type, undefined, token, body);
        expect(r.status, `${p.path} with ${body.slice(0, 20)}`).toBeLessThan(500);
      }
    }
  });

  it('a body over 1 MB is refused with 413, never 500', async () => {
    const token = await t.token('general', 'admin');
    const big = JSON.stringify({ title: 'x'.repeat(1_200_000) });
    for (const path of ['alerts.create', 'users.bulkCreate', 'auth.login']) {
      const res = await fetch(`${server.url}/trpc/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: big });
      expect(res.status, path).toBe(413);
    }
    // A URL past Node's header limit is refused before tRPC sees it.
    const long = await fetch(`${server.url}/trpc/alerts.list?input=${'x'.repeat(40_000)}`);
    expect(long.status).toBeLessThan(500);
  });
});

describe('garbage on the WebSocket', () => {
  const frames: (string | Buffer)[] = [
    'not json',
    '{',
    '[]',
    'null',
    '{"id":1}',
    '{"id":1,"method":"subscription"}',
    '{"id":1,"method":"subscription","params":{"path":"no.such","input":{}}}',
    '{"id":1,"method":"subscription","params":{"path":"alerts.onEvent","input":{"lastEventId":"9999999999999999999999"}}}',
    '{"id":{"a":1},"method":"query","params":{"path":"alerts.getActive"}}',
    '{"method":"connectionParams","data":{"token":{"$ne":null}}}',
    JSON.stringify({ method: 'connectionParams', data: { token: '\uD800'.repeat(100) } }),
    Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]),
    Buffer.alloc(64_000, 0x41),
  ];

  async function send(messages: (string | Buffer)[], headers: Record<string, string> = {}): Promise<{ closed: boolean; replies: string[] }> {
    const ws = new WebSocket(server.wsUrl, { headers });
    const replies: string[] = [];
    let closed = false;
    ws.on('message', (m) => replies.push(String(m)));
    ws.on('close', () => {
      closed = true;
    });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      ws.once('open', () => resolve());
      ws.once('error', () => resolve());
      ws.once('unexpected-response', () => resolve());
    });
    for (const m of messages) if (ws.readyState === ws.OPEN) ws.send(m);
    await new Promise((r) => setTimeout(r, 300));
    ws.terminate();
    return { closed, replies };
  }

  it('malformed frames are answered or the socket closed; no internal errors; the server stays healthy', async () => {
    for (const frame of frames) {
      const { replies } = await send([frame]);
      for (const r of replies) expect(r, `reply to ${String(frame).slice(0, 60)}`).not.toMatch(/INTERNAL_SERVER_ERROR|-32603/);
    }
    // Random frames too.
    const random = fc.sample(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v))), 40);
    await send(random);
    // A frame over the 1 MB limit: the socket is closed, nothing else happens.
    const huge = await send([Buffer.alloc(1_100_000, 0x41)]);
    expect(huge.closed).toBe(true);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('subscriptions with malformed inputs are refused, never an internal error', async () => {
    const token = await t.token('general', 'nurse.icu');
    const inputs = fc.sample(inputArbitrary(['lastEventId']), 25);
    const messages = [JSON.stringify({ method: 'connectionParams', data: { token } }), ...inputs.map((input, i) => JSON.stringify({ id: i + 1, method: 'subscription', params: { path: 'alerts.onEvent', input } }))];
    const { replies } = await send(messages);
    for (const r of replies) expect(r).not.toMatch(/INTERNAL_SERVER_ERROR|-32603/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
