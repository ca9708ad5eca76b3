import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  callTwiml,
  parseAnswer,
  parseStatus,
  placeCall,
  sendSms,
  signatureFor,
  type TelephonyConfig,
  TelephonyError,
  verifySignature,
} from '../../server/notifications/providers/telephony.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';

// The adapter against a real HTTP peer with the provider's shape, and the provider's webhooks
// against a real receiver that verifies them the way our routes will.

interface Received {
  path: string;
  params: Record<string, string>;
  valid: boolean;
}

/** Our side of the webhooks: verifies X-Twilio-Signature against the full URL it was called on. */
async function startReceiver(authToken: string): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const url = `http://${req.headers.host}${req.url}`;
    const header = req.headers['x-twilio-signature'];
    const valid = verifySignature(authToken, url, params, typeof header === 'string' ? header : undefined);
    received.push({ path: req.url ?? '', params, valid });
    res.writeHead(valid ? 204 : 403).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

const closeServer = (s: Server) => new Promise<void>((r) => s.close(() => r()));

async function rejection(p: Promise<unknown>): Promise<TelephonyError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TelephonyError);
  return err as TelephonyError;
}

let peer: TelephonyPeer;
let cfg: TelephonyConfig;
const sms = { to: '+14155550123', body: 'CRITICAL · ICU · room 312', statusCallbackUrl: 'https://clarion.test/hooks/telephony/status?attempt=a1' };

beforeAll(async () => {
  peer = await startTelephonyPeer();
  cfg = { baseUrl: peer.baseUrl, accountSid: peer.accountSid, authToken: peer.authToken, from: '+15005550006', timeoutMs: 2000 };
});
afterAll(() => peer.close());
beforeEach(() => peer.reset());

describe('sending', () => {
  it('sends an SMS with the right fields, form encoding and Basic auth', async () => {
    const out = await sendSms(cfg, sms);
    expect(peer.messages).toHaveLength(1);
    expect(out).toEqual({ providerId: peer.messages[0]!.sid, status: 'queued' });
    expect(out.providerId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(peer.messages[0]!.params).toEqual({ To: sms.to, From: cfg.from, Body: sms.body, StatusCallback: sms.statusCallbackUrl });
    expect(peer.requests[0]!.auth).toEqual({ user: peer.accountSid, pass: peer.authToken });
    expect(peer.requests[0]!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it('places a call whose TwiML reads the escaped script inside a one-digit Gather posting to our URL', async () => {
    const script = 'Code blue & <ICU> "room 3" — press 1 to acknowledge, 2 to decline';
    const gatherUrl = 'https://clarion.test/hooks/telephony/gather?attempt=a2&t=x';
    const out = await placeCall(cfg, { to: '+442071838750', script, gatherUrl, statusCallbackUrl: 'https://clarion.test/s' });
    expect(peer.calls).toHaveLength(1);
    expect(out).toEqual({ providerId: peer.calls[0]!.sid, status: 'queued' });
    const { Twiml, To, From, StatusCallback } = peer.calls[0]!.params;
    expect({ To, From, StatusCallback }).toEqual({ To: '+442071838750', From: cfg.from, StatusCallback: 'https://clarion.test/s' });
    expect(Twiml).toBe(callTwiml(script, gatherUrl));
    expect(Twiml).toContain(
      '<Gather numDigits="1" action="https://clarion.test/hooks/telephony/gather?attempt=a2&amp;t=x" method="POST">' +
        '<Say>Code blue &amp; &lt;ICU&gt; &quot;room 3&quot; — press 1 to acknowledge, 2 to decline</Say></Gather>',
    );
    expect(Twiml).toMatch(/^<Response>.*<\/Gather><Say>[^<]+<\/Say><\/Response>$/);
    expect(Twiml).not.toContain('<ICU>');
  });

  it('refuses a number that is not E.164 before asking the provider', async () => {
    for (const to of ['4155550123', '+0155550123', '+1 415 555 0123', '+12']) {
      const err = await rejection(sendSms(cfg, { ...sms, to }));
      expect(err).toMatchObject({ status: 0, retryable: false, code: 'invalid_to' });
    }
    expect(peer.requests).toHaveLength(0);
  });
});

describe('failures', () => {
  it('500 and 429 are retryable, 400 is not; each failure is one request', async () => {
    peer.failNext(1, 500);
    peer.failNext(1, 429, { code: 20429, message: 'Too Many Requests' });
    peer.failNext(1, 400, { code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    expect(await rejection(sendSms(cfg, sms))).toMatchObject({ status: 500, retryable: true, code: '20500' });
    expect(await rejection(sendSms(cfg, sms))).toMatchObject({ status: 429, retryable: true, code: '20429' });
    const bad = await rejection(sendSms(cfg, sms));
    expect(bad).toMatchObject({ status: 400, retryable: false, code: '21610' });
    expect(bad.message).toContain('unsubscribed recipient');
    await expect(sendSms(cfg, sms)).resolves.toMatchObject({ status: 'queued' });
    expect(peer.requests).toHaveLength(4);
    expect(peer.messages).toHaveLength(1);
  });

  it('the provider’s own 400 for a body it refuses is not retryable', async () => {
    const err = await rejection(sendSms(cfg, { ...sms, body: '' }));
    expect(err).toMatchObject({ status: 400, retryable: false, code: '21604' });
  });

  it('a provider that does not answer in time is a retryable timeout', async () => {
    peer.stallNext(1, 3000);
    const started = Date.now();
    const err = await rejection(sendSms({ ...cfg, timeoutMs: 200 }, sms));
    expect(err).toMatchObject({ status: 0, retryable: true, code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a provider that cannot be reached is retryable', async () => {
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as AddressInfo).port;
    await closeServer(gone);
    const err = await rejection(sendSms({ ...cfg, baseUrl: `http://127.0.0.1:${port}` }, sms));
    expect(err).toMatchObject({ status: 0, retryable: true, code: 'network' });
  });

  it('wrong credentials: the peer answers 401, not retryable, nothing sent', async () => {
    const err = await rejection(placeCall({ ...cfg, authToken: 'wrong' }, { to: sms.to, script: 's', gatherUrl: 'https://g', statusCallbackUrl: 'https://s' }));
    expect(err).toMatchObject({ status: 401, retryable: false, code: '20003' });
    expect(peer.requests[0]!.auth).toEqual({ user: peer.accountSid, pass: 'wrong' });
    expect(peer.calls).toHaveLength(0);
  });
});

describe('webhook signatures', () => {
  it('matches the provider’s published example', () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' };
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(signatureFor('12345', url, params)).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    expect(verifySignature('12345', url, params, 'GvWf1cFY/Q7PnoempGyD5oXAezc=')).toBe(true);
  });

  it('a tampered param, another URL, a wrong token or a missing/odd header fails', () => {
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered' };
    const url = 'https://clarion.test/hooks/telephony/status?attempt=a1';
    const sig = signatureFor('token', url, params);
    expect(verifySignature('token', url, params, sig)).toBe(true);
    expect(verifySignature('token', url, { ...params, MessageStatus: 'failed' }, sig)).toBe(false);
    expect(verifySignature('token', url, { ...params, Extra: '' }, sig)).toBe(false);
    expect(verifySignature('token', url.replace('a1', 'a2'), params, sig)).toBe(false);
    expect(verifySignature('other', url, params, sig)).toBe(false);
    expect(verifySignature('token', url, params, undefined)).toBe(false);
    expect(verifySignature('token', url, params, '')).toBe(false);
    expect(verifySignature('token', url, params, sig.slice(0, -2))).toBe(false);
  });

  it('round-trips over HTTP: status callback, inbound SMS and keypad verify and parse; a wrong token or altered body is refused', async () => {
    const ours = await startReceiver(peer.authToken);
    const wrong = await startReceiver('not-the-token');
    try {
      expect(await peer.statusCallback(`${ours.url}/status?attempt=a1`, { sid: 'SMabc', kind: 'sms', status: 'delivered' })).toBe(204);
      expect(await peer.statusCallback(`${ours.url}/status?attempt=a2`, { sid: 'CAdef', kind: 'voice', status: 'no-answer' })).toBe(204);
      expect(await peer.inboundSms(`${ours.url}/sms`, { from: sms.to, to: cfg.from, body: ' 1 on my way' })).toBe(204);
      expect(await peer.keypad(`${ours.url}/gather?attempt=a3`, { callSid: 'CAdef', digits: '2', from: cfg.from, to: sms.to })).toBe(204);
      const [delivered, noAnswer, inbound, keys] = ours.received;
      expect(ours.received.every((r) => r.valid)).toBe(true);
      expect(delivered!.path).toBe('/status?attempt=a1');
      expect(parseStatus(delivered!.params)).toEqual({ providerId: 'SMabc', kind: 'sms', status: 'delivered', raw: 'delivered' });
      expect(parseStatus(noAnswer!.params)).toEqual({ providerId: 'CAdef', kind: 'voice', status: 'no_answer', raw: 'no-answer' });
      expect(parseStatus(inbound!.params)).toBeNull();
      expect(parseAnswer(inbound!.params.Body!)).toBe('acknowledge');
      expect(parseAnswer(keys!.params.Digits!)).toBe('decline');

      expect(await peer.statusCallback(`${wrong.url}/status`, { sid: 'SMabc', kind: 'sms', status: 'delivered' })).toBe(403);
      expect(wrong.received[0]!.valid).toBe(false);

      // A replayed signature over a changed body (delivered → failed) must not pass.
      const params = { MessageSid: 'SMabc', MessageStatus: 'delivered' };
      const header = signatureFor(peer.authToken, `${ours.url}/status`, params);
      const res = await fetch(`${ours.url}/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': header },
        body: new URLSearchParams({ ...params, MessageStatus: 'failed' }).toString(),
      });
      expect(res.status).toBe(403);
    } finally {
      await Promise.all([closeServer(ours.server), closeServer(wrong.server)]);
    }
  });
});

describe('parsing', () => {
  it.each([
    ['sms', 'queued', 'queued'],
    ['sms', 'sent', 'sent'],
    ['sms', 'delivered', 'delivered'],
    ['sms', 'undelivered', 'failed'],
    ['sms', 'failed', 'failed'],
    ['voice', 'queued', 'queued'],
    ['voice', 'ringing', 'sent'],
    ['voice', 'in-progress', 'answered'],
    ['voice', 'completed', 'completed'],
    ['voice', 'busy', 'busy'],
    ['voice', 'no-answer', 'no_answer'],
    ['voice', 'failed', 'failed'],
    ['voice', 'canceled', 'failed'],
  ] as const)('%s %s → %s', (kind, raw, status) => {
    const params = kind === 'sms' ? { MessageSid: 'SM9', MessageStatus: raw } : { CallSid: 'CA9', CallStatus: raw };
    expect(parseStatus(params)).toEqual({ providerId: kind === 'sms' ? 'SM9' : 'CA9', kind, status, raw });
  });

  it('parseStatus is null for what is not a known status callback', () => {
    expect(parseStatus({})).toBeNull();
    expect(parseStatus({ MessageSid: 'SM9', MessageStatus: 'teleported' })).toBeNull();
    expect(parseStatus({ CallSid: 'CA9' })).toBeNull();
    expect(parseStatus({ MessageStatus: 'delivered' })).toBeNull();
  });

  it.each([
    ['1', 'acknowledge'],
    [' 1 ', 'acknowledge'],
    ['1 on my way', 'acknowledge'],
    ['1, coming', 'acknowledge'],
    ['ack', 'acknowledge'],
    ['ACK!', 'acknowledge'],
    ['Acknowledged', 'acknowledge'],
    ['2', 'decline'],
    ['2 - in theatre', 'decline'],
    ['decline', 'decline'],
    ['Declined', 'decline'],
    ['', null],
    ['   ', null],
    ['12', null],
    ['3', null],
    ['yes', null],
    ['no problem, coming', null],
    ['acknowledgement', null],
    ['on my way 1', null],
  ] as const)('parseAnswer(%j) → %s', (text, expected) => {
    expect(parseAnswer(text)).toBe(expected);
  });
});
