import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppDeps } from '../deps.js';
import { type AnsweringAttempt, answerAttempt, attemptByProviderId, attemptBySmsReply } from '../notifications/answers.js';
import { recordProviderStatus } from '../notifications/attempts.js';
import { pageText } from '../notifications/deliver.js';
import { parseAnswer, parseStatus, verifySignature } from '../notifications/providers/telephony.js';
import { BodyTooLarge, formParams, readBody } from './body.js';
import { clientIp } from './client-info.js';

/*
 * The SMS/voice provider calls back here: delivery status of what we sent (status), a reply to an
 * SMS page (inbound), a keypress during a call (gather). Nothing is trusted before the request's
 * signature checks out against our auth token over the URL the provider was given (PUBLIC_URL).
 */
export const TELEPHONY_HOOK = /^\/hooks\/telephony\/(status|inbound|gather)$/;

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function twiml(res: ServerResponse, inner = ''): void {
  res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`);
}

const plain = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
};

async function answer(deps: AppDeps, req: IncomingMessage, attempt: AnsweringAttempt | null, text: string, via: 'sms' | 'voice'): Promise<string> {
  if (!attempt) return 'There is no open Clarion page for you to answer. Open Clarion to see your alerts.';
  const action = parseAnswer(text);
  const what = pageText({ ...attempt, detail: 'minimal' });
  if (!action) return `Not understood. ${via === 'sms' ? 'Reply' : 'Press'} 1 to acknowledge, 2 to decline: ${what}.`;
  const outcome = await answerAttempt(deps, attempt, { action, via, ip: clientIp(req, deps.config.auth.trustProxyHops) });
  if (!outcome.ok) return outcome.message;
  return action === 'acknowledge' ? `Acknowledged: ${what}. Thank you.` : `Declined: ${what}. Clarion is paging the next person.`;
}

export async function handleTelephonyHook(deps: AppDeps, req: IncomingMessage, res: ServerResponse, hook: 'status' | 'inbound' | 'gather'): Promise<void> {
  const telephony = deps.config.telephony;
  if (!telephony) return plain(res, 404, 'SMS and voice are not set up on this server');
  if (req.method !== 'POST') return plain(res, 405, 'POST only');
  let params: Record<string, string>;
  try {
    params = formParams(await readBody(req, 16_384));
  } catch (err) {
    return plain(res, err instanceof BodyTooLarge ? 413 : 400, 'Unreadable body');
  }
  const signature = req.headers['x-twilio-signature'];
  if (!verifySignature(telephony.authToken, `${deps.config.publicUrl}${req.url ?? ''}`, params, typeof signature === 'string' ? signature : undefined)) {
    deps.log.warn({ hook }, 'telephony callback with a bad signature refused');
    return plain(res, 403, 'Signature does not match');
  }
  if (hook === 'status') {
    const status = parseStatus(params);
    if (status) await recordProviderStatus(deps.db, status.providerId, status.status, status.raw);
    res.writeHead(204);
    return void res.end();
  }
  if (hook === 'inbound') {
    const from = params.From ?? '';
    const reply = await answer(deps, req, from ? await attemptBySmsReply(deps.db, from) : null, params.Body ?? '', 'sms');
    return twiml(res, `<Message>${xmlEscape(reply)}</Message>`);
  }
  const callSid = params.CallSid ?? '';
  const attempt = callSid ? await attemptByProviderId(deps.db, callSid) : null;
  const spoken = await answer(deps, req, attempt?.channel === 'voice' ? attempt : null, params.Digits ?? '', 'voice');
  return twiml(res, `<Say>${xmlEscape(spoken.replaceAll(' · ', ', '))}</Say>`);
}
