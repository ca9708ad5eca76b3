import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlert } from '../../server/alerts/service.js';
import { backoffSeconds, MAX_ATTEMPTS, sendDueWebhooks } from '../../server/integrations/webhook-sender.js';
import { verifySignatureHeader } from '../../server/notifications/webhook-signing.js';
import type { TestEnv } from '../support/env.js';
import { createOutageEnv, type OutageEnv } from '../support/outage.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { killWorkers, spawnWorker, waitUntil } from '../support/worker.js';

// Integrations issue: signed outbound webhooks. Every alert event writes its delivery rows in its own
// transaction (a trigger); the worker POSTs them signed, retries with backoff, dead-letters after a
// day, Redeliver sends again; the real worker process survives a SIGKILL and a Redis restart with
// every delivery made (at least once, deduplicated by the receiver on the event id).
let outage: OutageEnv;
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;
const received: { body: string; signature: string | undefined; delivery: string | undefined }[] = [];
let failNext = 0;
let receiverUrl = '';

beforeAll(async () => {
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        return res.writeHead(503).end();
      }
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-clarion-signature'] as string, delivery: req.headers['x-clarion-delivery'] as string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/clarion`;
  outage = await createOutageEnv();
  env = outage.env;
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
});

const operator = () => t.user('general', 'operator');
const raise = (title: string) =>
  createAlert(env.deps, { id: operator().id, role: 'operator', hospitalId: operator().hospitalId, departmentId: null }, { userId: operator().id, hospitalId: operator().hospitalId, ip: null, userAgent: 'test', sessionId: null }, {
    title,
    priority: 'high',
    alertType: 'medical',
    departmentId: t.hospital.general.departments.ICU,
    roomNumber: '312',
  });
const deliveries = async (webhookId: string) =>
  (await env.deps.db.execute<{ status: string; attempts: number; event_type: string }>(sql`SELECT status, attempts, event_type FROM webhook_deliveries WHERE webhook_id = ${webhookId} ORDER BY created_at`)).rows;

describe('outbound webhooks', () => {
  it('an event writes a delivery for each webhook that asked for it; the POST is signed with the secret shown once', async () => {
    const hook = await admin.integrations.createWebhook.mutate({ url: receiverUrl, events: ['alert.created', 'alert.acknowledged'] });
    expect(hook.secret).toMatch(/^whsec_/);
    expect(JSON.stringify(await admin.integrations.listWebhooks.query())).not.toContain(hook.secret);
    const a = await raise('Webhook: created');
    expect(await deliveries(hook.id)).toEqual([{ status: 'pending', attempts: 0, event_type: 'alert.created' }]);
    await sendDueWebhooks(env.deps);
    expect(received).toHaveLength(1);
    const got = received[0]!;
    expect(verifySignatureHeader(hook.secret, got.body, got.signature)).toBe(true);
    expect(verifySignatureHeader('whsec_other', got.body, got.signature)).toBe(false);
    expect(JSON.parse(got.body)).toMatchObject({ type: 'alert.created', alert: { id: a.id, title: 'Webhook: created', source: 'console' } });
    expect((await admin.integrations.webhookDeliveries.query({ webhookId: hook.id })).deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 204 });
    await admin.integrations.deleteWebhook.mutate({ webhookId: hook.id });
    await raise('Webhook: after delete');
    expect(await deliveries(hook.id)).toHaveLength(1);
  });

  it('retries with backoff, dead-letters after a day of tries, and Redeliver sends it again', async () => {
    received.length = 0;
    const hook = await admin.integrations.createWebhook.mutate({ url: receiverUrl, events: ['alert.created'] });
    await raise('Webhook: retried');
    failNext = 1;
    await sendDueWebhooks(env.deps);
    const [d] = (await admin.integrations.webhookDeliveries.query({ webhookId: hook.id })).deliveries;
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 503, lastError: 'HTTP 503' });
    expect(Date.parse(d!.nextAttemptAt!) - Date.now()).toBeGreaterThan(5_000);
    expect([1, 2, 3, 9, 10, 32].map(backoffSeconds)).toEqual([10, 20, 40, 2560, 3600, 3600]);
    expect(Array.from({ length: MAX_ATTEMPTS }, (_, i) => backoffSeconds(i + 1)).reduce((a, b) => a + b, 0)).toBeGreaterThan(86_400 * 0.95);
    // The last try fails too: dead, listed, and Redeliver puts it back.
    await env.deps.db.execute(sql`UPDATE webhook_deliveries SET attempts = ${MAX_ATTEMPTS - 1}, next_attempt_at = now() WHERE webhook_id = ${hook.id}`);
    failNext = 1;
    await sendDueWebhooks(env.deps);
    expect(await deliveries(hook.id)).toMatchObject([{ status: 'dead', attempts: MAX_ATTEMPTS }]);
    expect(received).toHaveLength(0);
    await admin.integrations.redeliverWebhook.mutate({ deliveryId: d!.id });
    await sendDueWebhooks(env.deps);
    expect(received).toHaveLength(1);
    expect(await deliveries(hook.id)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    await admin.integrations.deleteWebhook.mutate({ webhookId: hook.id });
  });

  it("is the hospital's own: another hospital's admin cannot list, read or redeliver; bad input writes nothing", async () => {
    const hook = await admin.integrations.createWebhook.mutate({ url: receiverUrl, events: ['alert.resolved'] });
    const theirs = clientFor(server, await t.token('riverside', 'admin'));
    expect((await theirs.integrations.listWebhooks.query()).webhooks.map((w) => w.id)).not.toContain(hook.id);
    await expect(theirs.integrations.webhookDeliveries.query({ webhookId: hook.id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await expect(theirs.integrations.deleteWebhook.mutate({ webhookId: hook.id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    const before = (await admin.integrations.listWebhooks.query()).webhooks.length;
    for (const bad of [{ url: 'ftp://x.example', events: ['alert.created'] }, { url: receiverUrl, events: [] }, { url: receiverUrl, events: ['alert.exploded'] }]) {
      await expect(admin.integrations.createWebhook.mutate(bad as never)).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    }
    expect((await admin.integrations.listWebhooks.query()).webhooks.length).toBe(before);
    await admin.integrations.deleteWebhook.mutate({ webhookId: hook.id });
  });

  it('the real worker delivers every event through a SIGKILL and a Redis restart', async () => {
    received.length = 0;
    const hook = await admin.integrations.createWebhook.mutate({ url: receiverUrl, events: ['alert.created'] });
    const first = spawnWorker(env);
    const alerts = [];
    for (let i = 0; i < 20; i++) alerts.push(await raise(`Webhook crash ${i}`));
    await waitUntil(async () => received.length >= 5, 20_000, 'some deliveries before the kill');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await outage.stopRedis();
    for (let i = 20; i < 25; i++) alerts.push(await raise(`Webhook crash ${i}`));
    await outage.startRedis();
    // Rows the killed worker held wait out a 60 s lease; age it rather than wait.
    await env.deps.db.execute(sql`UPDATE webhook_deliveries SET updated_at = now() - interval '2 minutes' WHERE webhook_id = ${hook.id} AND status = 'sending'`);
    spawnWorker(env);
    await waitUntil(async () => (await deliveries(hook.id)).every((d) => d.status === 'delivered') && (await deliveries(hook.id)).length === 25, 30_000, 'every delivery made');
    killWorkers();
    const ids = new Set(received.map((r) => (JSON.parse(r.body) as { alert: { id: string } }).alert.id));
    expect(ids.size).toBe(25);
    expect(alerts.every((a) => ids.has(a.id))).toBe(true);
    expect(received.every((r) => verifySignatureHeader(hook.secret, r.body, r.signature))).toBe(true);
    await admin.integrations.deleteWebhook.mutate({ webhookId: hook.id });
  }, 90_000);
});
