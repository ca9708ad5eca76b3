import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { e164Schema } from '../schemas.js';

/**
 * SMS and voice through a Twilio-style REST provider. Pure functions over fetch: no database, no
 * Redis, no globals, so the worker decides retries and fall-through from `TelephonyError.retryable`
 * and the HTTP routes verify callbacks with `verifySignature` before trusting a single field.
 */

export interface TelephonyConfig {
  /** e.g. https://api.twilio.com/2010-04-01 (no trailing slash needed). */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Our sending number, E.164. */
  from: string;
  /** Per request; a provider that hangs must not hold a page. Default 10 s. */
  timeoutMs?: number;
}


/**
 * `status` is the provider's HTTP status, or 0 when no HTTP answer came back (network, timeout) or
 * the request was never sent (a number that is not E.164).
 */
export class TelephonyError extends Error {
  override name = 'TelephonyError';
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    readonly code?: string,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

const acceptedSchema = z.object({ sid: z.string().min(1), status: z.string().min(1) });
// Twilio's codes are numbers; other providers of the same shape send strings.
const errorSchema = z.object({ code: z.union([z.string(), z.number()]).optional(), message: z.string().optional() });

export async function sendSms(
  cfg: TelephonyConfig,
  msg: { to: string; body: string; statusCallbackUrl: string },
): Promise<{ providerId: string; status: string }> {
  return create(cfg, 'Messages.json', { To: checkedNumber(msg.to), From: cfg.from, Body: msg.body, StatusCallback: msg.statusCallbackUrl });
}

export async function placeCall(
  cfg: TelephonyConfig,
  call: { to: string; script: string; gatherUrl: string; statusCallbackUrl: string },
): Promise<{ providerId: string; status: string }> {
  return create(cfg, 'Calls.json', {
    To: checkedNumber(call.to),
    From: cfg.from,
    Twiml: callTwiml(call.script, call.gatherUrl),
    StatusCallback: call.statusCallbackUrl,
  });
}

/**
 * The call reads the script inside a one-digit Gather, so a keypress during the reading already
 * answers; silence falls through to the closing Say and the call ends (status `completed` with no
 * Digits, which the worker treats as unanswered).
 */
export function callTwiml(script: string, gatherUrl: string): string {
  return (
    '<Response>' +
    `<Gather numDigits="1" action="${xmlEscape(gatherUrl)}" method="POST"><Say>${xmlEscape(script)}</Say></Gather>` +
    '<Say>No answer received. Goodbye.</Say>' +
    '</Response>'
  );
}

/** base64(HMAC-SHA1(authToken, url + each POST param's name and value, sorted by name)). */
export function signatureFor(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** `url` must be the full URL the provider called, query string included, as configured with it. */
export function verifySignature(authToken: string, url: string, params: Record<string, string>, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signatureFor(authToken, url, params));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'answered' | 'no_answer' | 'busy' | 'completed';

const SMS_STATUS: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

const CALL_STATUS: Record<string, DeliveryStatus> = {
  queued: 'queued',
  initiated: 'queued',
  // The network reached the handset: as far as an SMS's `sent`, not yet a person.
  ringing: 'sent',
  'in-progress': 'answered',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no_answer',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * A status callback's params (already signature-checked) as our attempt status; null for anything
 * that is not a status callback or carries a status we do not know (the caller ignores it rather
 * than guessing). An inbound SMS carries MessageSid but SmsStatus, not MessageStatus, so it is null.
 */
export function parseStatus(
  params: Record<string, string | undefined>,
): { providerId: string; kind: 'sms' | 'voice'; status: DeliveryStatus; raw: string } | null {
  const { MessageSid, MessageStatus, CallSid, CallStatus } = params;
  if (MessageSid && MessageStatus) {
    const status = SMS_STATUS[MessageStatus];
    return status ? { providerId: MessageSid, kind: 'sms', status, raw: MessageStatus } : null;
  }
  if (CallSid && CallStatus) {
    const status = CALL_STATUS[CallStatus];
    return status ? { providerId: CallSid, kind: 'voice', status, raw: CallStatus } : null;
  }
  return null;
}

const ANSWERS: Record<string, 'acknowledge' | 'decline'> = {
  '1': 'acknowledge',
  ack: 'acknowledge',
  acknowledge: 'acknowledge',
  acknowledged: 'acknowledge',
  '2': 'decline',
  decline: 'decline',
  declined: 'decline',
};

/**
 * An SMS reply or keypad Digits. Only the first word counts ("1 on my way", "ACK!"), and only the
 * words the prompt offers: "no"/"ok" are left out on purpose ("no problem, coming" must not decline),
 * so anything else is null and the page keeps escalating.
 */
export function parseAnswer(text: string): 'acknowledge' | 'decline' | null {
  const first = text.trim().toLowerCase().split(/[^a-z0-9]+/, 1)[0] ?? '';
  return ANSWERS[first] ?? null;
}

function checkedNumber(to: string): string {
  const parsed = e164Schema.safeParse(to);
  if (!parsed.success) throw new TelephonyError(`Not an E.164 phone number: ${JSON.stringify(to)}`, 0, false, 'invalid_to');
  return parsed.data;
}

async function create(cfg: TelephonyConfig, resource: string, params: Record<string, string>): Promise<{ providerId: string; status: string }> {
  const url = `${cfg.baseUrl.replace(/\/+$/, '')}/Accounts/${encodeURIComponent(cfg.accountSid)}/${resource}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${cfg.accountSid}:${cfg.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    const reason = timedOut ? `no answer within ${cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : errorText(err);
    throw new TelephonyError(`Telephony provider unreachable: ${reason}`, 0, true, timedOut ? 'timeout' : 'network');
  }
  const json = await readJson(res, cfg);
  if (!res.ok) {
    const e = errorSchema.safeParse(json);
    const code = e.success && e.data.code !== undefined ? String(e.data.code) : undefined;
    const detail = (e.success && e.data.message) || res.statusText;
    // 4xx means this request will never succeed as is (auth, number, body): retrying only delays the fall-through.
    throw new TelephonyError(`Telephony provider refused (${res.status}): ${detail}`, res.status, res.status >= 500 || res.status === 429, code);
  }
  const ok = acceptedSchema.safeParse(json);
  // Not retryable: the provider did accept the request, so a retry could page the person twice;
  // the missing status callbacks let the attempt time out and fall through instead.
  if (!ok.success) throw new TelephonyError(`Telephony provider answered ${res.status} without a sid and status`, res.status, false, 'bad_response');
  return { providerId: ok.data.sid, status: ok.data.status };
}

/** The body as JSON, or undefined (an HTML error page from a proxy is still an HTTP error). */
async function readJson(res: Response, cfg: TelephonyConfig): Promise<unknown> {
  try {
    return await res.json();
  } catch (err) {
    // The timeout also covers the body: a provider that sends headers and then stalls is unreachable.
    if (err instanceof Error && err.name === 'TimeoutError') {
      throw new TelephonyError(`Telephony provider unreachable: no answer within ${cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`, 0, true, 'timeout');
    }
    return undefined;
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the socket error (ECONNREFUSED, ...) in `cause`.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return err.message + cause;
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Also drops the control characters XML 1.0 cannot carry at all, so an odd alert title cannot break the call. */
function xmlEscape(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}
