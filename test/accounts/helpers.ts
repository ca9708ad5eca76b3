import type { AddressInfo } from 'node:net';
import { generate } from 'otplib';
import { SMTPServer } from 'smtp-server';
import { afterAll } from 'vitest';

export interface CapturedMail {
  to: string[];
  raw: string;
  /** The text with quoted-printable soft breaks and escapes undone. */
  text: string;
}

export interface Mailbox {
  url: string;
  messages: CapturedMail[];
  /** The newest message to `to`, waiting for it to arrive. */
  waitFor(to: string, ms?: number): Promise<CapturedMail>;
}

const decodeQp = (s: string) => s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

/** A local SMTP capture server on a free port, started by the test (never a real mail service). */
export async function startMailbox(): Promise<Mailbox> {
  const messages: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: decodeQp(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitFor(to, ms = 5_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.filter((m) => m.to.includes(to)).at(-1);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no mail to ${to}; have ${messages.map((m) => m.to.join(',')).join('; ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** The token of the first setup link in a text (an email, the CLI's output, a URL). */
export function tokenIn(text: string): string {
  const m = /\/setup\?token=([0-9]+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43})/.exec(text);
  if (!m) throw new Error(`no setup link in: ${text.slice(0, 400)}`);
  return m[1] as string;
}

export { type TrpcErrorInfo, trpcError } from '../support/errors.js';

/** The current TOTP code for a secret taken from an otpauth:// URI. */
export function totpFor(otpauthUri: string): Promise<string> {
  const secret = new URL(otpauthUri).searchParams.get('secret') as string;
  return generate({ secret });
}

export const GOOD_PASSWORD = 'A-long-enough-passphrase-42';
