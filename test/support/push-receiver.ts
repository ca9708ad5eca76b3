import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, createPublicKey, type ECDH, hkdfSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ece from 'http_ece';

/**
 * A Web Push service on a real HTTPS socket, for tests, playing both halves a phone would: the push
 * service (RFC 8030: POST /push/<id>, TTL, 201 + Location, 404/410 for a dead subscription, RFC 8292
 * VAPID checked) and the browser that decrypts the message (RFC 8291 aes128gcm). The JWT check and
 * the decryption are written here from the RFCs with node:crypto, not taken from web-push's own
 * libraries, so a test of our sender is not circular; http_ece (what web-push encrypts with) decrypts
 * each message a second time and must agree.
 */

export interface BrowserSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  subscriptionId: string;
  /** The decrypted body, parsed as JSON (the raw text when it is not JSON). */
  payload: unknown;
  headers: IncomingHttpHeaders;
  /** The VAPID JWT's verified claims. */
  claims: { aud: string; exp: number; sub: string };
  receivedAt: Date;
}

/** A request the push service took (201) but the "browser" could not use, or one it refused. */
export interface RejectedPush {
  subscriptionId: string;
  status: number;
  reason: string;
}

export interface PushReceiver {
  origin: string;
  /** Trusts the receiver's self-signed certificate: pass as sendPush's `agent`. */
  agent: Agent;
  /** The same certificate, PEM (for WEB_PUSH_CA_FILE when the server's own outbox sends). */
  certPem: Buffer;
  received: ReceivedPush[];
  rejected: RejectedPush[];
  /** A browser-shaped subscription; with `applicationServerKey`, a push signed by another key gets 403. */
  createSubscription(opts?: { applicationServerKey?: string }): BrowserSubscription;
  /** The subscription expired (the person unsubscribed, the browser rotated it): 410 from now on. */
  expire(endpoint: string): void;
  /** The next `count` pushes answer `status` (500, 429 with Retry-After, 400 …) before any check. */
  failNext(status: number, count?: number): void;
  /** The next push waits `ms` before answering (a hung push service). */
  stallNext(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

interface Sub {
  ecdh: ECDH;
  auth: Buffer;
  serverKey?: string;
  gone: boolean;
}

const PATH = /^\/push\/([A-Za-z0-9_-]+)$/;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const MAX_BODY = 4096;

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'push-receiver-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RFC 8292 §2-3: `vapid t=<ES256 JWT>, k=<65-byte P-256 key>`; throws the reason it is refused. */
export function verifyVapid(header: string | undefined, origin: string, now = Date.now()): { claims: ReceivedPush['claims']; key: string } {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(header ?? '');
  if (!m) throw new Error('no vapid Authorization header');
  const [, jwt, key] = m as unknown as [string, string, string];
  const raw = Buffer.from(key, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const head = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  if (head.alg !== 'ES256') throw new Error(`JWT alg ${head.alg}, not ES256`);
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
  // JOSE signatures are r||s (64 bytes), not DER.
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('JWT signature does not verify with k');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  if (claims.aud !== origin) throw new Error(`JWT aud ${claims.aud}, not ${origin}`);
  const nowS = now / 1000;
  if (typeof claims.exp !== 'number' || claims.exp <= nowS || claims.exp > nowS + 24 * 3600) throw new Error('JWT exp not within the next 24 h');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Error('JWT sub is not mailto: or https:');
  return { claims, key };
}

/** RFC 8291 §3.4 + RFC 8188: one aes128gcm record, decrypted with the subscription's private key and auth secret. */
export function decryptPush(body: Buffer, ecdh: ECDH, auth: Buffer): Buffer {
  if (body.length < 21 + 65 + 17) throw new Error('body too short for an aes128gcm header and record');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] as number;
  if (idlen !== 65) throw new Error(`keyid is ${idlen} bytes, not the sender's 65-byte public key`);
  const senderKey = body.subarray(21, 86);
  const record = body.subarray(86);
  if (record.length > rs) throw new Error('more than one record');
  const ecdhSecret = ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(-16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
  // The last record ends with a 0x02 delimiter, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record padding delimiter');
  return padded.subarray(0, end);
}

export async function startPushReceiver(): Promise<PushReceiver> {
  const { key, cert } = selfSignedCert();
  const subs = new Map<string, Sub>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  const failures: number[] = [];
  const stalls: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const id = PATH.exec(req.url ?? '')?.[1] ?? '';
    const refuse = (status: number, reason: string, headers: Record<string, string> = {}) => {
      rejected.push({ subscriptionId: id, status, reason });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(reason);
    };
    const stall = stalls.shift();
    if (stall !== undefined) await new Promise((r) => timers.add(setTimeout(r, stall)));
    const failure = failures.shift();
    if (failure !== undefined) return refuse(failure, `injected ${failure}`, failure === 429 ? { 'retry-after': '30' } : {});
    const sub = subs.get(id);
    if (req.method !== 'POST' || !sub) return refuse(404, 'no such subscription');
    if (sub.gone) return refuse(410, 'subscription expired');
    let vapid: ReturnType<typeof verifyVapid>;
    try {
      vapid = verifyVapid(req.headers.authorization, origin);
    } catch (err) {
      return refuse(401, (err as Error).message);
    }
    // A subscription is bound to the applicationServerKey it was made with (RFC 8292 §4.2).
    if (sub.serverKey && vapid.key !== sub.serverKey) return refuse(403, 'signed by another key than the subscription was made with');
    if (!/^\d+$/.test(String(req.headers.ttl ?? ''))) return refuse(400, 'TTL header missing or not a number');
    const urgency = req.headers.urgency;
    if (urgency !== undefined && !URGENCIES.has(String(urgency))) return refuse(400, `unknown Urgency ${urgency}`);
    if (req.headers['content-encoding'] !== 'aes128gcm') return refuse(415, 'Content-Encoding must be aes128gcm');
    if (body.length > MAX_BODY) return refuse(413, 'payload over 4096 bytes');
    res.writeHead(201, { location: `/message/${randomUUID()}` }).end();
    // Past this point the push service has accepted it; what follows is the browser's side.
    try {
      const plain = decryptPush(body, sub.ecdh, sub.auth);
      const viaEce = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth.toString('base64url') });
      if (!plain.equals(viaEce)) throw new Error('RFC 8291 decryption and http_ece disagree');
      const text = plain.toString('utf8');
      let payload: unknown = text;
      try {
        payload = JSON.parse(text);
      } catch {}
      received.push({ subscriptionId: id, payload, headers: req.headers, claims: vapid.claims, receivedAt: new Date() });
    } catch (err) {
      rejected.push({ subscriptionId: id, status: 201, reason: `browser could not decrypt: ${(err as Error).message}` });
    }
  };

  const server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((err) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert, keepAlive: false });

  return {
    origin,
    agent,
    certPem: cert,
    received,
    rejected,
    createSubscription(opts = {}) {
      const id = randomBytes(12).toString('base64url');
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      subs.set(id, { ecdh, auth, serverKey: opts.applicationServerKey, gone: false });
      return { endpoint: `${origin}/push/${id}`, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    expire(endpoint) {
      const sub = subs.get(PATH.exec(new URL(endpoint).pathname)?.[1] ?? '');
      if (sub) sub.gone = true;
    },
    failNext(status, count = 1) {
      for (let i = 0; i < count; i++) failures.push(status);
    },
    stallNext(ms) {
      stalls.push(ms);
    },
    reset() {
      received.length = 0;
      rejected.length = 0;
      failures.length = 0;
      stalls.length = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        agent.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
