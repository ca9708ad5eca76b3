import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { sendMail } from '../accounts/mailer.js';
import { AppError } from '../errors.js';
import { placeCall, sendSms, TelephonyError } from './providers/telephony.js';
import { type DeliverConfig, postSignedJson, SendFailure } from './deliver.js';
import type { Channel } from './schemas.js';
import { contactWebhookSecret } from './webhook-signing.js';

/** How long a code works, how often one may be sent, how many wrong tries before a new one is needed. */
export const CODE_TTL_MS = 10 * 60_000;
export const CODE_RESEND_MS = 30_000;
export const MAX_CODE_ATTEMPTS = 5;

export const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

/** Codes are stored as an HMAC keyed by the server's token secret and bound to the contact. */
export const hashCode = (secret: string, contactId: string, code: string) => createHmac('sha256', secret).update(`${contactId}:${code}`).digest('hex');

export function codeMatches(secret: string, contactId: string, code: string, stored: string): boolean {
  const a = Buffer.from(hashCode(secret, contactId, code), 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** "+1•••••0123", "n•••@general.test", "https://pager.example/…": what the audit log keeps of an address. */
export function maskAddress(channel: Channel, address: string): string {
  if (channel === 'email') {
    const [local = '', domain = ''] = address.split('@');
    return `${local.slice(0, 1)}•••@${domain}`;
  }
  if (channel === 'sms' || channel === 'voice') return `${address.slice(0, 2)}•••••${address.slice(-4)}`;
  try {
    return `${new URL(address).origin}/…`;
  } catch {
    return '•••';
  }
}

const unavailable = (what: string) => new AppError('PRECONDITION_FAILED', `${what} is not set up on this server: ask your hospital's IT team`);

/**
 * Sends a verification code over the contact's own channel, so typing it back proves the person
 * holds that phone, mailbox or endpoint. A provider refusing the number is the user's error
 * (BAD_REQUEST on the address); a provider down is SERVICE_UNAVAILABLE (try again).
 */
export async function sendCode(config: DeliverConfig, contact: { id: string; channel: Exclude<Channel, 'push'>; address: string }, code: string): Promise<void> {
  const { channel, address } = contact;
  const text = `Your Clarion verification code is ${code}. It expires in 10 minutes.`;
  try {
    if (channel === 'email') {
      if (!config.mail.smtpUrl) throw unavailable('Email');
      await sendMail(config, { to: address, subject: 'Your Clarion verification code', text, html: `<p>${text}</p>` });
    } else if (channel === 'sms' || channel === 'voice') {
      if (!config.telephony) throw unavailable(channel === 'sms' ? 'SMS' : 'Voice calling');
      const statusCallbackUrl = `${config.publicUrl}/hooks/telephony/status`;
      if (channel === 'sms') await sendSms(config.telephony, { to: address, body: text, statusCallbackUrl });
      else await placeCall(config.telephony, { to: address, script: `Your Clarion verification code is ${code.split('').join(', ')}. Again: ${code.split('').join(', ')}.`, gatherUrl: `${config.publicUrl}/hooks/telephony/gather`, statusCallbackUrl });
    } else {
      await postSignedJson(config.outbound, address, contactWebhookSecret(config.secrets.tokenSecret, contact.id), JSON.stringify({ type: 'clarion.verification', code }));
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof SendFailure && !err.retryable) throw new AppError('BAD_REQUEST', err.message, { address: [err.message.replace('The webhook', 'The address')] });
    if (err instanceof TelephonyError && !err.retryable) throw new AppError('BAD_REQUEST', 'The provider refused this number', { address: ['The provider refused this number'] });
    throw new AppError('SERVICE_UNAVAILABLE', 'Could not send the code just now: try again in a minute');
  }
}
