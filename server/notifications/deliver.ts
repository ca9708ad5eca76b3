import { sendMail } from '../accounts/mailer.js';
import type { Config } from '../config.js';
import { responseLink } from './answers.js';
import { placeCall, sendSms } from './providers/telephony.js';
import type { Channel } from './schemas.js';
import { contactWebhookSecret, SIGNATURE_HEADER, signatureHeader } from './webhook-signing.js';

/** One message of a page, as the sender claimed it from the outbox. */
export type OutboundPage = {
  attemptId: string;
  pageId: string;
  alertId: string;
  channel: Channel;
  contactId: string | null;
  address: string | null;
  pushKeys: { p256dh: string; auth: string } | null;
  priority: string;
  department: string;
  roomNumber: string | null;
  title: string;
  detail: 'minimal' | 'full';
};

export type DeliverConfig = Pick<Config, 'mail' | 'telephony' | 'publicUrl' | 'secrets'>;

export class SendFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** What a lock screen, an SMS or an email says: no patient detail unless the hospital chose 'full'. */
export function pageText(p: Pick<OutboundPage, 'priority' | 'department' | 'roomNumber' | 'title' | 'detail'>): string {
  return [p.priority.toUpperCase(), p.department, p.roomNumber ? `room ${p.roomNumber}` : null, p.detail === 'full' ? p.title : null].filter(Boolean).join(' · ');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The webhook channel's body (DESIGN.md): ids, where, how urgent, and the response link; the title only when 'full'. */
export function webhookBody(p: OutboundPage, respond: string): string {
  return JSON.stringify({
    type: 'clarion.page',
    pageId: p.pageId,
    alertId: p.alertId,
    priority: p.priority,
    department: p.department,
    room: p.roomNumber,
    ...(p.detail === 'full' ? { title: p.title } : {}),
    links: { respond },
  });
}

/** POSTs signed JSON; a 5xx or 429 is worth retrying, any other refusal is final. */
export async function postSignedJson(url: string, secret: string, body: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(secret, body), 'user-agent': 'Clarion-Webhook/1' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new SendFailure(`The webhook could not be reached: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  await res.body?.cancel();
  if (!res.ok) throw new SendFailure(`The webhook answered HTTP ${res.status}`, res.status >= 500 || res.status === 429);
}

/** Sends one message; returns the provider's id where there is one (SMS and calls: callbacks name it). */
export async function deliver(config: DeliverConfig, p: OutboundPage): Promise<string | null> {
  if (!p.address) throw new SendFailure('The contact was removed', false);
  const text = pageText(p);
  const link = responseLink(config.publicUrl, config.secrets.tokenSecret, p.attemptId);
  switch (p.channel) {
    case 'email': {
      if (!config.mail.smtpUrl) throw new SendFailure('Email is not set up on this server', false);
      const lines = [`Clarion page: ${text}.`, `Acknowledge or decline: ${link}`, 'Or open Clarion.'];
      const html = `<p>Clarion page: <strong>${escapeHtml(text)}</strong></p><p><a href="${escapeHtml(link)}">Acknowledge or decline</a></p><p>Or open Clarion.</p>`;
      await sendMail(config, { to: p.address, subject: `Clarion page: ${text}`, text: lines.join('\n\n'), html });
      return null;
    }
    case 'sms':
    case 'voice': {
      if (!config.telephony) throw new SendFailure('SMS and voice are not set up on this server', false);
      const statusCallbackUrl = `${config.publicUrl}/hooks/telephony/status`;
      const sent =
        p.channel === 'sms'
          ? await sendSms(config.telephony, { to: p.address, body: `Clarion: ${text}. Reply 1 to acknowledge, 2 to decline. ${link}`, statusCallbackUrl })
          : await placeCall(config.telephony, {
              to: p.address,
              script: `This is Clarion. ${text.replaceAll(' · ', ', ')}. Press 1 to acknowledge. Press 2 to decline.`,
              gatherUrl: `${config.publicUrl}/hooks/telephony/gather`,
              statusCallbackUrl,
            });
      return sent.providerId;
    }
    case 'webhook':
      await postSignedJson(p.address, contactWebhookSecret(config.secrets.tokenSecret, p.contactId as string), webhookBody(p, link));
      return null;
    case 'push':
      throw new SendFailure('Web Push sending is not built yet', false);
  }
}
