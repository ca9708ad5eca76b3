import { and, eq, isNull, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { toIso } from '../common/schemas.js';
import type { Config } from '../config.js';
import type { Tx } from '../db/client.js';
import { auditLogs, setupTokens } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { mailConfigured, sendMail, setupLinkMessage } from './mailer.js';
import { accountAuditActions as A, type SetupLink, type SetupPurpose } from './schemas.js';
import { hashSetupToken, newSetupToken, setupUrl } from './tokens.js';

export interface IssuedLink {
  linkId: string;
  userId: string;
  url: string;
  expiresAt: Date;
  purpose: SetupPurpose;
}

export interface LinkTarget {
  userId: string;
  hospitalId: string;
}

const expiryFrom = (config: Pick<Config, 'accounts'>) => new Date(Date.now() + config.accounts.setupLinkHours * 3_600_000);

/**
 * Ends every open link of the user. Called wherever a password is set (a new link, the user's own
 * password change, a completed setup): a link outlives none of them, so nobody holding an old copy
 * (the admin's screen, the mailbox) can take the account after the user chose their own password.
 */
export async function revokeOpenLinks(tx: Tx, userId: string): Promise<number> {
  const revoked = await tx
    .update(setupTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(setupTokens.userId, userId), isNull(setupTokens.usedAt), isNull(setupTokens.revokedAt)))
    .returning({ id: setupTokens.id });
  return revoked.length;
}

/**
 * Issues a link inside the caller's transaction (so it exists exactly when the change it belongs to
 * commits) and revokes the user's older open links: only the newest link works.
 */
export async function issueLink(
  tx: Tx,
  config: Pick<Config, 'accounts' | 'secrets' | 'publicUrl'>,
  audit: AuditContext,
  target: LinkTarget,
  purpose: SetupPurpose,
): Promise<IssuedLink> {
  const revoked = await revokeOpenLinks(tx, target.userId);
  const expiresAt = expiryFrom(config);
  const token = newSetupToken(config.secrets.tokenSecret, expiresAt);
  const [row] = await tx
    .insert(setupTokens)
    .values({ userId: target.userId, hospitalId: target.hospitalId, tokenHash: hashSetupToken(token), purpose, createdBy: audit.userId, expiresAt })
    .returning({ id: setupTokens.id });
  const linkId = (row as { id: string }).id;
  await logAuditEvent(tx, audit, {
    action: A.linkIssued,
    resource: 'user',
    resourceId: target.userId,
    metadata: { linkId, purpose, expiresAt: toIso(expiresAt), revokedLinks: revoked },
  });
  return { linkId, userId: target.userId, url: setupUrl(config.publicUrl, token), expiresAt, purpose };
}

/** New users of a bulk import: one INSERT for the links and one for their audit rows. */
export async function issueLinks(tx: Tx, config: Pick<Config, 'accounts' | 'secrets' | 'publicUrl'>, audit: AuditContext, targets: LinkTarget[]): Promise<IssuedLink[]> {
  if (!targets.length) return [];
  const expiresAt = expiryFrom(config);
  const tokens = targets.map(() => newSetupToken(config.secrets.tokenSecret, expiresAt));
  const rows = await tx
    .insert(setupTokens)
    .values(targets.map((t, i) => ({ userId: t.userId, hospitalId: t.hospitalId, tokenHash: hashSetupToken(tokens[i] as string), purpose: 'account_setup', createdBy: audit.userId, expiresAt })))
    .returning({ id: setupTokens.id, userId: setupTokens.userId });
  const idOf = new Map(rows.map((r) => [r.userId, r.id]));
  const links = targets.map((t, i) => ({ linkId: idOf.get(t.userId) as string, userId: t.userId, url: setupUrl(config.publicUrl, tokens[i] as string), expiresAt, purpose: 'account_setup' as const }));
  await tx.insert(auditLogs).values(
    links.map((l, i) => ({
      userId: audit.userId,
      hospitalId: (targets[i] as LinkTarget).hospitalId,
      action: A.linkIssued,
      resource: 'user',
      resourceId: l.userId,
      outcome: 'success' as const,
      ipAddress: audit.ip,
      userAgent: audit.userAgent,
      sessionId: audit.sessionId,
      metadata: { linkId: l.linkId, purpose: l.purpose, expiresAt: toIso(expiresAt), revokedLinks: 0, bulk: true },
    })),
  );
  return links;
}

export interface Recipient {
  email: string;
  name: string;
  hospitalName: string;
}

/**
 * After commit: emails the link when SMTP is configured (audited either way) and returns what the
 * admin sees. A mail failure does not undo the account: the admin gets the link to pass on instead.
 */
export async function deliverLink(deps: Pick<AppDeps, 'config' | 'db' | 'log'>, audit: AuditContext, link: IssuedLink, to: Recipient): Promise<SetupLink> {
  const copy: SetupLink = { url: link.url, expiresAt: toIso(link.expiresAt), emailed: false };
  if (!mailConfigured(deps.config)) return copy;
  const entry = { action: A.linkEmailed, resource: 'user', resourceId: link.userId };
  try {
    await sendMail(deps.config, setupLinkMessage({ to: to.email, name: to.name, hospitalName: to.hospitalName, url: link.url, expiresAt: link.expiresAt, purpose: link.purpose }));
  } catch (err) {
    deps.log.warn({ err: (err as Error).message, userId: link.userId }, 'setup link email not sent; the admin is given the link instead');
    await logAuditEvent(deps.db, audit, { ...entry, outcome: 'failure', metadata: { linkId: link.linkId, reason: (err as Error).message.slice(0, 200) } });
    return copy;
  }
  await logAuditEvent(deps.db, audit, { ...entry, metadata: { linkId: link.linkId, to: to.email } });
  return { url: null, expiresAt: toIso(link.expiresAt), emailed: true };
}

/** Delivers many links, a few emails at a time (a 500-user import must not open 500 connections). */
export async function deliverLinks(deps: Pick<AppDeps, 'config' | 'db' | 'log'>, audit: AuditContext, items: { link: IssuedLink; to: Recipient }[]): Promise<SetupLink[]> {
  const out: SetupLink[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i] as { link: IssuedLink; to: Recipient };
      out[i] = await deliverLink(deps, audit, item.link, item.to);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, items.length) }, worker));
  return out;
}
