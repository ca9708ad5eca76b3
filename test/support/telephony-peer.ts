import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in SMS/voice provider with the Twilio REST shape, on a real socket, for tests: it checks
 * Basic auth, parses the form body, records what it was asked to send, and can fail or stall on
 * demand. It also plays the provider's side of the webhooks (status callbacks, inbound SMS, keypad),
 * signed with its own HMAC code rather than the adapter's, so a verification test is not circular.
 */

export interface PeerRequest {
  resource: 'Messages' | 'Calls';
  params: Record<string, string>;
  /** What came in the Authorization header, decoded, or null when there was none. */
  auth: { user: string; pass: string } | null;
  contentType: string | undefined;
}

export interface PeerRecord {
  sid: string;
  params: Record<string, string>;
}

export interface TelephonyPeer {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Every request that reached a resource, accepted or not. */
  requests: PeerRequest[];
  /** Accepted (201) ones only. */
  messages: PeerRecord[];
  calls: PeerRecord[];
  /** The next `count` requests answer `status` with a `{ code, message }` body. */
  failNext(count: number, status: number, body?: { code: number | string; message: string }): void;
  /** The next `count` requests get no answer for `ms` (to exercise the client's timeout). */
  stallNext(count: number, ms: number): void;
  /** A signed form POST to `url`, as the provider would; resolves with our receiver's HTTP status. */
  post(url: string, params: Record<string, string>): Promise<number>;
  statusCallback(url: string, p: { sid: string; kind: 'sms' | 'voice'; status: string }): Promise<number>;
  inboundSms(url: string, p: { from: string; to: string; body: string }): Promise<number>;
  keypad(url: string, p: { callSid: string; digits: string; from: string; to: string }): Promise<number>;
  /** Forgets what was recorded and any failure or stall not yet used, so one test cannot leak into the next. */
  reset(): void;
  close(): Promise<void>;
}

// The API version prefix is part of the base URL, as with the real provider.
const RESOURCE = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export async function startTelephonyPeer(
  opts: { accountSid?: string; authToken?: string } = {},
): Promise<TelephonyPeer> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const requests: PeerRequest[] = [];
  const messages: PeerRecord[] = [];
  const calls: PeerRecord[] = [];
  const failures: { status: number; body: { code: number | string; message: string } }[] = [];
  const stalls: number[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const m = RESOURCE.exec(new URL(req.url ?? '/', 'http://peer').pathname);
    if (req.method !== 'POST' || !m) return answer(res, 404, { code: 20404, message: 'The requested resource was not found' });
    const resource = m[2] as 'Messages' | 'Calls';
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const auth = basicAuth(req.headers.authorization);
    requests.push({ resource, params, auth, contentType: req.headers['content-type'] });

    const stall = stalls.shift();
    if (stall !== undefined) await new Promise((r) => timers.add(setTimeout(r, stall)));
    const failure = failures.shift();
    if (failure) return answer(res, failure.status, failure.body);
    if (!auth || auth.user !== accountSid || auth.pass !== authToken || decodeURIComponent(m[1]!) !== accountSid) {
      return answer(res, 401, { code: 20003, message: 'Authenticate' });
    }
    const content = resource === 'Messages' ? params.Body : params.Twiml;
    if (!params.To || !params.From || !content) return answer(res, 400, { code: 21604, message: 'A required parameter is missing' });
    if (!E164.test(params.To)) return answer(res, 400, { code: 21211, message: `The 'To' number ${params.To} is not a valid phone number.` });

    const sid = (resource === 'Messages' ? 'SM' : 'CA') + randomBytes(16).toString('hex');
    (resource === 'Messages' ? messages : calls).push({ sid, params });
    answer(res, 201, { sid, status: 'queued', to: params.To, from: params.From });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => answer(res, 500, { code: 20500, message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const post = async (url: string, params: Record<string, string>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(authToken, url, params) },
      body: new URLSearchParams(params).toString(),
    });
    await res.arrayBuffer();
    return res.status;
  };

  return {
    baseUrl: `http://127.0.0.1:${port}/2010-04-01`,
    accountSid,
    authToken,
    requests,
    messages,
    calls,
    failNext(count, status, body = { code: 20500, message: `Injected failure ${status}` }) {
      for (let i = 0; i < count; i++) failures.push({ status, body });
    },
    stallNext(count, ms) {
      for (let i = 0; i < count; i++) stalls.push(ms);
    },
    post,
    statusCallback(url, p) {
      const params: Record<string, string> =
        p.kind === 'sms'
          ? { AccountSid: accountSid, MessageSid: p.sid, SmsSid: p.sid, MessageStatus: p.status, SmsStatus: p.status }
          : { AccountSid: accountSid, CallSid: p.sid, CallStatus: p.status, ApiVersion: '2010-04-01' };
      return post(url, params);
    },
    inboundSms(url, p) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      return post(url, { AccountSid: accountSid, MessageSid: sid, SmsSid: sid, SmsStatus: 'received', From: p.from, To: p.to, Body: p.body, NumMedia: '0' });
    },
    keypad(url, p) {
      return post(url, { AccountSid: accountSid, CallSid: p.callSid, Digits: p.digits, From: p.from, To: p.to, CallStatus: 'in-progress' });
    },
    reset() {
      for (const list of [requests, messages, calls, failures, stalls]) list.length = 0;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Twilio's algorithm, written out independently of the adapter's signatureFor. */
function sign(authToken: string, url: string, params: Record<string, string>): string {
  const hmac = createHmac('sha1', authToken);
  hmac.update(url);
  for (const key of Object.keys(params).sort()) hmac.update(key + params[key]);
  return hmac.digest('base64');
}

function basicAuth(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic (.+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
