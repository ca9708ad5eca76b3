import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Config } from '../config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

// One transport per SMTP URL for the life of the process (the server and the CLI each build one).
const transports = new Map<string, Transporter>();

function transportFor(smtpUrl: string): Transporter {
  let t = transports.get(smtpUrl);
  if (!t) {
    // Bounded timeouts: an unreachable mail server must not hold an admin's request for minutes.
    t = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } satisfies SMTPTransport.Options);
    transports.set(smtpUrl, t);
  }
  return t;
}

/** True when SMTP_URL is set: setup links are then emailed instead of only shown to the admin. */
export const mailConfigured = (config: Pick<Config, 'mail'>) => config.mail.smtpUrl !== null;

/** Sends one message through SMTP_URL; throws when the mail server refuses or cannot be reached. */
export async function sendMail(config: Pick<Config, 'mail'>, message: MailMessage): Promise<void> {
  if (!config.mail.smtpUrl) throw new Error('SMTP_URL is not configured');
  await transportFor(config.mail.smtpUrl).sendMail({ from: config.mail.from, ...message });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The setup / reset email. Plain text first (many hospital mail systems strip HTML). */
export function setupLinkMessage(input: {
  to: string;
  name: string;
  hospitalName: string;
  url: string;
  expiresAt: Date;
  purpose: 'account_setup' | 'password_reset';
}): MailMessage {
  const reset = input.purpose === 'password_reset';
  const subject = reset ? `Reset your Clarion sign-in at ${input.hospitalName}` : `Set up your Clarion account at ${input.hospitalName}`;
  const lead = reset
    ? 'An administrator has reset your Clarion sign-in. Open this link to choose a new password:'
    : `An account has been created for you on Clarion at ${input.hospitalName}. Open this link to choose your password:`;
  const until = `The link works once and expires ${input.expiresAt.toUTCString()}.`;
  const ignore = 'If you did not expect this email, ignore it and tell your hospital IT team.';
  const text = `Hello ${input.name},\n\n${lead}\n\n${input.url}\n\n${until}\n${ignore}\n`;
  const html = `<p>Hello ${escapeHtml(input.name)},</p><p>${escapeHtml(lead)}</p><p><a href="${escapeHtml(input.url)}">${escapeHtml(input.url)}</a></p><p>${escapeHtml(until)}<br>${escapeHtml(ignore)}</p>`;
  return { to: input.to, subject, text, html };
}
