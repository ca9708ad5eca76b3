import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundRefused, postGuarded } from '../../server/common/outbound.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// The SSRF guard on webhook targets: checked on the address the socket connects to, so a name that
// resolves to a local address is refused like a literal one, and redirects are never followed.
let port = 0;
const hits: string[] = [];
let env: TestEnv;
let server: TestServer;
let t: Tenants;

beforeAll(async () => {
  const receiver = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/redirect') return res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  port = (receiver.address() as AddressInfo).port;
  env = await createTestEnv({ OUTBOUND_ALLOW_PRIVATE: 'false' });
  server = await startTestServer(env);
  t = await seedTenants(env);
});

const closed = { allowPrivate: false, allowedHosts: [] as string[] };

describe('postGuarded', () => {
  it('refuses loopback, private and link-local targets, by literal address or by a name that resolves to one', async () => {
    for (const url of [`http://127.0.0.1:${port}/a`, `http://localhost:${port}/b`, 'http://10.1.2.3/c', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9/d', 'http://[::ffff:127.0.0.1]:9/e']) {
      await expect(postGuarded(closed, url, {}, '{}', 2000), url).rejects.toBeInstanceOf(OutboundRefused);
    }
    expect(hits).toEqual([]);
  });

  it('an allow-listed host, or the development policy, gets through; a redirect is an answer, never followed', async () => {
    expect(await postGuarded({ allowPrivate: false, allowedHosts: ['localhost'] }, `http://localhost:${port}/ok`, {}, '{}', 2000)).toBe(204);
    expect(await postGuarded({ allowPrivate: true, allowedHosts: [] }, `http://127.0.0.1:${port}/redirect`, {}, '{}', 2000)).toBe(307);
    expect(hits).toEqual(['/ok', '/redirect']);
  });

  it('a webhook contact on a local address is refused in words when the policy is closed, and nothing is stored', async () => {
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    const err = await nurse.notifications.addContact.mutate({ channel: 'webhook', address: `http://127.0.0.1:${port}/pager` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ data: { code: 'BAD_REQUEST' } });
    expect(String((err as Error).message)).toContain('not allowed');
    expect((await nurse.notifications.getRules.query()).contacts.filter((c) => c.channel === 'webhook')).toEqual([]);
    expect(hits).not.toContain('/pager');
  });
});
