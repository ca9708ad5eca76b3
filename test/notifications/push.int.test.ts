import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateVapidKeys, type PushPayload, PushError, sendPush, type WebPushConfig } from '../../server/notifications/providers/webpush.js';
import { type PushReceiver, startPushReceiver, verifyVapid } from '../support/push-receiver.js';

// The Web Push sender against a real RFC 8030 push service on an HTTPS socket, which checks VAPID
// the way push services do and decrypts the message the way a browser does (its own RFC 8291 code).

let rx: PushReceiver;
const cfg: WebPushConfig = { ...generateVapidKeys(), subject: 'mailto:clarion-ops@general.test' };
const payload: PushPayload = {
  v: 1,
  title: 'CRITICAL · ICU · room 312',
  body: 'Tap to open, or answer here',
  tag: '0195d6a4-7c1e-7b2a-9f00-1a2b3c4d5e6f',
  alertId: '0195d6a4-7000-7000-8000-000000000001',
  pageId: '0195d6a4-7c1e-7b2a-9f00-1a2b3c4d5e6f',
  url: '/#/my-alerts',
  respondUrl: 'https://clarion.general.test/r/tok_abc',
  priority: 'critical',
};

/** The PushError a send that must fail rejects with. */
const rejection = (p: Promise<unknown>): Promise<PushError> =>
  p.then(
    () => expect.fail('expected sendPush to fail'),
    (e: unknown) => {
      expect(e).toBeInstanceOf(PushError);
      return e as PushError;
    },
  );

beforeAll(async () => {
  rx = await startPushReceiver();
});
afterAll(() => rx.close());
beforeEach(() => rx.reset());

describe('sendPush', () => {
  it('delivers a payload that the subscription decrypts exactly, signed with a VAPID JWT that verifies', async () => {
    const sub = rx.createSubscription({ applicationServerKey: cfg.publicKey });
    expect(await sendPush(cfg, sub, payload, { agent: rx.agent })).toEqual({ status: 201 });
    expect(rx.rejected).toEqual([]);
    expect(rx.received).toHaveLength(1);
    const [got] = rx.received;
    expect(got!.payload).toEqual(payload);
    expect(got!.claims.aud).toBe(rx.origin);
    expect(got!.claims.sub).toBe(cfg.subject);
    expect(got!.claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(got!.headers).toMatchObject({ 'content-encoding': 'aes128gcm', ttl: '900', urgency: 'high' });
    // The Topic lets a push service keep only the newest message of a page for an offline phone.
    expect(got!.headers.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(got!.headers.authorization).toMatch(new RegExp(`^vapid t=.+, k=${cfg.publicKey}$`));
  });

  it('asks normal urgency for medium and low pages, and takes the TTL it is given', async () => {
    const sub = rx.createSubscription();
    await sendPush(cfg, sub, { ...payload, priority: 'medium', respondUrl: null }, { agent: rx.agent, ttlSeconds: 120 });
    await sendPush(cfg, sub, { ...payload, priority: 'high' }, { agent: rx.agent });
    expect(rx.received.map((r) => [r.headers.urgency, r.headers.ttl])).toEqual([
      ['normal', '120'],
      ['high', '900'],
    ]);
    expect((rx.received[0]!.payload as PushPayload).respondUrl).toBeNull();
  });

  it('410 and 404 mean the subscription is gone (the caller deletes the contact), not retryable', async () => {
    const sub = rx.createSubscription();
    rx.expire(sub.endpoint);
    const gone = await rejection(sendPush(cfg, sub, payload, { agent: rx.agent }));
    expect(gone).toMatchObject({ status: 410, gone: true, retryable: false });
    const unknown = await rejection(sendPush(cfg, { ...sub, endpoint: `${rx.origin}/push/nobody` }, payload, { agent: rx.agent }));
    expect(unknown).toMatchObject({ status: 404, gone: true, retryable: false });
    expect(rx.received).toEqual([]);
  });

  it('500 once is retryable and the retry delivers; 429 is retryable with its Retry-After', async () => {
    const sub = rx.createSubscription();
    rx.failNext(500);
    expect(await rejection(sendPush(cfg, sub, payload, { agent: rx.agent }))).toMatchObject({ status: 500, retryable: true, gone: false });
    expect(await sendPush(cfg, sub, payload, { agent: rx.agent })).toEqual({ status: 201 });
    expect(rx.received).toHaveLength(1);
    rx.failNext(429);
    expect(await rejection(sendPush(cfg, sub, payload, { agent: rx.agent }))).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: 30 });
  });

  it('400, and 403 for a key the subscription was not made with, are not retryable', async () => {
    rx.failNext(400);
    expect(await rejection(sendPush(cfg, rx.createSubscription(), payload, { agent: rx.agent }))).toMatchObject({ status: 400, retryable: false, gone: false });
    const other = rx.createSubscription({ applicationServerKey: generateVapidKeys().publicKey });
    const e = await rejection(sendPush(cfg, other, payload, { agent: rx.agent }));
    expect(e).toMatchObject({ status: 403, retryable: false, gone: false });
    expect(rx.rejected.at(-1)?.reason).toBe('signed by another key than the subscription was made with');
  });

  it('with the wrong keys the push service accepts the message but the browser cannot decrypt it', async () => {
    const sub = rx.createSubscription();
    const stranger = rx.createSubscription();
    // Another device's public key: a valid point, so only the decryption can tell.
    await sendPush(cfg, { ...sub, keys: { ...sub.keys, p256dh: stranger.keys.p256dh } }, payload, { agent: rx.agent });
    await sendPush(cfg, { ...sub, keys: { ...sub.keys, auth: stranger.keys.auth } }, payload, { agent: rx.agent });
    expect(rx.received).toEqual([]);
    expect(rx.rejected.map((r) => r.reason)).toEqual([expect.stringMatching(/^browser could not decrypt/), expect.stringMatching(/^browser could not decrypt/)]);
  });

  it('a hung push service, a closed port and an untrusted certificate are retryable, status 0', async () => {
    const sub = rx.createSubscription();
    rx.stallNext(3_000);
    const started = Date.now();
    expect(await rejection(sendPush(cfg, sub, payload, { agent: rx.agent, timeoutMs: 300 }))).toMatchObject({ status: 0, retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
    const closed = await rejection(sendPush(cfg, { ...sub, endpoint: 'https://127.0.0.1:9/push/x' }, payload, { agent: rx.agent }));
    expect(closed).toMatchObject({ status: 0, retryable: true });
    expect(closed.message).toMatch(/^Push service unreachable: .*ECONNREFUSED/);
    // Without the agent that trusts the receiver's certificate, TLS refuses it: the test does not trust blindly.
    expect((await rejection(sendPush(cfg, sub, payload))).message).toMatch(/self.signed/i);
  });

  it('refuses a malformed subscription or payload before sending anything', async () => {
    const sub = rx.createSubscription();
    const bad = [
      sendPush(cfg, { ...sub, keys: { ...sub.keys, p256dh: 'c2hvcnQ' } }, payload, { agent: rx.agent }),
      sendPush(cfg, { ...sub, endpoint: sub.endpoint.replace('https:', 'http:') }, payload, { agent: rx.agent }),
      sendPush(cfg, sub, { ...payload, url: '//evil.example/' }, { agent: rx.agent }),
      sendPush(cfg, sub, { ...payload, body: 'x'.repeat(501) }, { agent: rx.agent }),
    ];
    for (const p of bad) expect(await rejection(p)).toMatchObject({ status: 0, retryable: false, gone: false });
    expect(rx.received).toEqual([]);
    expect(rx.rejected).toEqual([]);
  });
});

describe('the receiver checks VAPID (so the test above can fail)', () => {
  it('refuses a tampered signature, another audience and a missing header', async () => {
    const sub = rx.createSubscription();
    await sendPush(cfg, sub, payload, { agent: rx.agent });
    const auth = rx.received[0]!.headers.authorization as string;
    expect(() => verifyVapid(auth, rx.origin)).not.toThrow();
    const [t, k] = auth.slice('vapid t='.length).split(', k=') as [string, string];
    const sig = Buffer.from(t.split('.')[2]!, 'base64url');
    sig[10] = (sig[10] as number) ^ 1;
    const tampered = `vapid t=${t.split('.').slice(0, 2).join('.')}.${sig.toString('base64url')}, k=${k}`;
    expect(() => verifyVapid(tampered, rx.origin)).toThrow('JWT signature does not verify with k');
    expect(() => verifyVapid(auth, 'https://push.example.net')).toThrow(/JWT aud/);
    expect(() => verifyVapid(auth, rx.origin, Date.now() + 25 * 3600_000)).toThrow(/exp/);
    expect(() => verifyVapid(undefined, rx.origin)).toThrow('no vapid Authorization header');
  });
});
