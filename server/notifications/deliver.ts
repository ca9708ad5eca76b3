import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { sendMail } from '../accounts/mailer.js';
import { OutboundRefused, type OutboundPolicy, postGuarded } from '../common/outbound.js';
import type { Config } from '../config.js';
import { responseLink } from './answers.js';
import { placeCall, sendSms } from './providers/telephony.js';
import { type PushPayload, sendPush } from './providers/webpush.js';
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

export type DeliverConfig = Pick<Config, 'mail' | 'telephony' | 'publicUrl' | 'secrets' | 'webPush' | 'outbound'>;

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

/** POSTs signed JSON; a 5xx or 429 is worth retrying, any other refusal (or a disallowed target) is final. */
export async function postSignedJson(policy: OutboundPolicy, url: string, secret: string, body: string): Promise<void> {
  let status: number;
  try {
    status = await postGuarded(policy, url, { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(secret, body), 'user-agent': 'Clarion-Webhook/1' }, body, 10_000);
  } catch (err) {
    if (err instanceof OutboundRefused) throw new SendFailure(`The webhook address is not allowed: ${err.message}`, false);
    throw new SendFailure(`The webhook could not be reached: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  if (status < 200 || status >= 300) throw new SendFailure(`The webhook answered HTTP ${status}`, status >= 500 || status === 429);
}

/** One message in each channel's form: what `send` puts on the wire. */
export interface Message {
  subject: string;
  text: string;
  html: string;
  sms: string;
  /** Read out by the call; a keypress answers (the gather hook). */
  voice: string;
  webhook: string;
  push: PushPayload;
}

/** A page: the minimal text, the response link, how to answer on each channel. */
export function pageMessage(config: DeliverConfig, p: OutboundPage): Message {
  const text = pageText(p);
  const link = responseLink(config.publicUrl, config.secrets.tokenSecret, p.attemptId);
  return {
    subject: `Clarion page: ${text}`,
    text: [`Clarion page: ${text}.`, `Acknowledge or decline: ${link}`, 'Or open Clarion.'].join('\n\n'),
    html: `<p>Clarion page: <strong>${escapeHtml(text)}</strong></p><p><a href="${escapeHtml(link)}">Acknowledge or decline</a></p><p>Or open Clarion.</p>`,
    sms: `Clarion: ${text}. Reply 1 to acknowledge, 2 to decline. ${link}`,
    voice: `This is Clarion. ${text.replaceAll(' · ', ', ')}. Press 1 to acknowledge. Press 2 to decline.`,
    webhook: webhookBody(p, link),
    push: { v: 1, title: text, body: 'Tap to open, or Acknowledge / Decline', tag: p.pageId, alertId: p.alertId, pageId: p.pageId, url: '/#/my-alerts', respondUrl: link, priority: p.priority as PushPayload['priority'] },
  };
}

/** notifications.test: the same channel, no page, nothing to answer. */
export function testMessage(): Message {
  const text = 'Clarion test: this is how a page will reach you. Nothing to do.';
  return {
    subject: 'Clarion test message',
    text,
    html: `<p>${text}</p>`,
    sms: text,
    voice: 'This is a Clarion test call. This is how a page will reach you. Nothing to do. Goodbye.',
    webhook: JSON.stringify({ type: 'clarion.test' }),
    push: { v: 1, title: 'Clarion test', body: 'This is how a page will reach you. Nothing to do.', tag: 'clarion-test', alertId: 'test', pageId: 'test', url: '/#/reach', respondUrl: null, priority: 'low' },
  };
}

export type Target = Pick<OutboundPage, 'channel' | 'contactId' | 'address' | 'pushKeys'>;

/** Sends one message; returns the provider's id where there is one (SMS and calls: callbacks name it). */
export async function send(config: DeliverConfig, to: Target, m: Message): Promise<string | null> {
  if (!to.address) throw new SendFailure('The contact was removed', false);
  switch (to.channel) {
    case 'email':
      if (!config.mail.smtpUrl) throw new SendFailure('Email is not set up on this server', false);
      await sendMail(config, { to: to.address, subject: m.subject, text: m.text, html: m.html });
      return null;
    case 'sms':
    case 'voice': {
      if (!config.telephony) throw new SendFailure('SMS and voice are not set up on this server', false);
      const statusCallbackUrl = `${config.publicUrl}/hooks/telephony/status`;
      const sent =
        to.channel === 'sms'
          ? await sendSms(config.telephony, { to: to.address, body: m.sms, statusCallbackUrl })
          : await placeCall(config.telephony, { to: to.address, script: m.voice, gatherUrl: `${config.publicUrl}/hooks/telephony/gather`, statusCallbackUrl });
      return sent.providerId;
    }
    case 'webhook':
      await postSignedJson(config.outbound, to.address, contactWebhookSecret(config.secrets.tokenSecret, to.contactId as string), m.webhook);
      return null;
    case 'push': {
      if (!config.webPush) throw new SendFailure('Web Push is not set up on this server', false);
      if (!to.pushKeys) throw new SendFailure('The push subscription has no keys', false);
      await sendPush(config.webPush, { endpoint: to.address, keys: to.pushKeys }, m.push, { agent: pushAgent(config.webPush) });
      return null;
    }
  }
}

export const deliver = (config: DeliverConfig, p: OutboundPage) => send(config, p, pageMessage(config, p));

const agents = new Map<string, Agent>();
/** WEB_PUSH_CA_FILE: the CA of a hospital's TLS-inspecting proxy between Clarion and the push services. */
function pushAgent(cfg: NonNullable<Config['webPush']>): Agent | undefined {
  if (!cfg.caFile) return undefined;
  let agent = agents.get(cfg.caFile);
  if (!agent) {
    // Added to Node's trusted roots, not instead of them: the file may hold only the proxy's CA.
    agent = new Agent({ ca: [...rootCertificates, readFileSync(cfg.caFile, 'utf8')], keepAlive: true });
    agents.set(cfg.caFile, agent);
  }
  return agent;
}
