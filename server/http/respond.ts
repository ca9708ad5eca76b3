import type { IncomingMessage, ServerResponse } from 'node:http';
import { DECLINE_PRESETS } from '../alerts/schemas.js';
import type { AppDeps } from '../deps.js';
import { type AnswerOutcome, type AnsweringAttempt, answerAttempt, attemptByToken } from '../notifications/answers.js';
import { pageText } from '../notifications/deliver.js';
import { markDelivered } from '../notifications/attempts.js';
import { respondInput } from '../notifications/schemas.js';
import { BodyTooLarge, formParams, readBody } from './body.js';
import { clientIp } from './client-info.js';

/*
 * Response links, /r/<token>: what an SMS, an email or a push notification links to. A GET only
 * shows the alert with Acknowledge and Decline — mail scanners and link previewers fetch every GET,
 * and must not acknowledge a critical alert nobody has seen. The form's POST (or the service
 * worker's JSON POST from a notification's action button) answers as the paged person.
 */
export const RESPOND_PATH = /^\/r\/([A-Za-z0-9._-]{1,120})(\/delivered)?$/;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-robots-tag': 'noindex, nofollow',
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Clarion</title><style>
body{font:18px/1.5 system-ui,sans-serif;margin:0;padding:1rem;background:#f5f6f8;color:#111}
main{max-width:32rem;margin:0 auto;background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin:.2rem 0 1rem}.what{font-size:1.25rem;font-weight:700}
button{font:inherit;min-height:48px;width:100%;border-radius:8px;border:2px solid #1d4ed8;margin:.4rem 0;cursor:pointer}
.ack{background:#1d4ed8;color:#fff}.decline{background:#fff;color:#1d4ed8}
fieldset{border:1px solid #ccd;border-radius:8px;margin:1rem 0;padding:.5rem 1rem}
label{display:flex;gap:.6rem;align-items:center;min-height:44px}input[type=text]{font:inherit;width:100%;min-height:44px;box-sizing:border-box}
.error{color:#b00020;font-weight:600}a{color:#1d4ed8}
</style></head><body><main>${body}</main></body></html>`);
}

const openApp = (deps: AppDeps) => `<p><a href="${esc(deps.config.publicUrl)}/">Open Clarion</a></p>`;

function showPage(deps: AppDeps, a: AnsweringAttempt, token: string, error?: string) {
  const what = pageText({ ...a, detail: 'minimal' });
  const presets = DECLINE_PRESETS.map((p) => `<label><input type="radio" name="reason" value="${esc(p)}"> ${esc(p)}</label>`).join('');
  return `<h1>Clarion page</h1><p class="what">${esc(what)}</p>
<p>Waiting for you to acknowledge or decline.</p>
<form method="post" action="/r/${esc(token)}">
<button class="ack" name="action" value="acknowledge">Acknowledge</button>
<fieldset><legend>Cannot take it? Say why</legend>${presets}
<label><input type="radio" name="reason" value="other"> Other:</label>
<input type="text" name="other" aria-label="Other reason" maxlength="500" autocomplete="off">
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<button class="decline" name="action" value="decline">Decline</button></fieldset>
</form>${openApp(deps)}`;
}

const REFUSAL_STATUS: Record<Exclude<AnswerOutcome, { ok: true }>['reason'], number> = {
  used: 410,
  expired: 410,
  closed: 409,
  conflict: 409,
  inactive: 403,
  not_allowed: 403,
  unknown: 404,
};

/** The service worker's receipt: the notification is on the phone. Only moves a sent attempt to delivered. */
export async function handleDeliveredReceipt(deps: AppDeps, req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
  if (req.method !== 'POST') return json(res, 405, { ok: false, message: 'POST only' });
  const attempt = await attemptByToken(deps.db, deps.config.secrets.tokenSecret, token);
  if (!attempt) return json(res, 404, { ok: false, message: 'This link is not valid' });
  const marked = await markDelivered(deps.db, attempt.attemptId);
  return json(res, 200, { ok: true, delivered: marked });
}

export async function handleRespond(deps: AppDeps, req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
  const wantsJson = (req.headers['content-type'] ?? '').startsWith('application/json');
  const reply = (status: number, title: string, message: string, ok = false) =>
    wantsJson ? json(res, status, { ok, message }) : html(res, status, title, `<h1>${esc(title)}</h1><p>${esc(message)}</p>${openApp(deps)}`);
  const attempt = await attemptByToken(deps.db, deps.config.secrets.tokenSecret, token);
  if (!attempt) return reply(404, 'Link not valid', 'This link is not a valid Clarion link. Open Clarion to see your alerts.');
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (attempt.answeredAt) return reply(410, 'Already answered', 'This page has already been answered from this message.');
    if (attempt.expired) return reply(410, 'Link expired', 'This link has expired. Open Clarion to see the alert.');
    if (attempt.alertStatus !== 'active') return reply(409, 'No longer waiting', `This alert is ${attempt.alertStatus}: nothing to do.`);
    return html(res, 200, 'Clarion page', showPage(deps, attempt, token));
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' });
    return void res.end();
  }
  let fields: Record<string, unknown>;
  try {
    const body = await readBody(req, 4096);
    if (wantsJson) fields = JSON.parse(body || '{}') as Record<string, unknown>;
    else {
      const form = formParams(body);
      fields = { action: form.action, reason: form.reason === 'other' ? form.other : form.reason };
    }
  } catch (err) {
    return reply(err instanceof BodyTooLarge ? 413 : 400, 'Not understood', 'The answer could not be read. Open Clarion to answer.');
  }
  const parsed = respondInput.safeParse(fields);
  if (!parsed.success) return reply(400, 'Not understood', parsed.error.issues[0]?.message ?? 'Choose Acknowledge or Decline');
  const { action, reason } = parsed.data;
  // The form asks why; a notification's Decline button has no room to, so the server words it.
  if (!wantsJson && action === 'decline' && (reason ?? '').length < 3) return html(res, 400, 'Say why', showPage(deps, attempt, token, 'Choose a reason, or Other and type one (at least 3 characters)'));
  const via = wantsJson && attempt.channel === 'push' ? 'push' : 'link';
  const outcome = await answerAttempt(deps, attempt, { action, reason, via, ip: clientIp(req, deps.config.auth.trustProxyHops) });
  if (!outcome.ok) return reply(REFUSAL_STATUS[outcome.reason], 'Not recorded', outcome.message);
  return reply(200, action === 'acknowledge' ? 'Acknowledged' : 'Declined', action === 'acknowledge' ? 'Thank you: the team sees that you have it.' : 'Declined: Clarion is paging the next person now.', true);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
