import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { contacts } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { AddContactInput, Contact } from './schemas.js';
import { takeTelephonySlot } from './rate-limits.js';
import { contactWebhookSecret } from './webhook-signing.js';
import { CODE_RESEND_MS, CODE_TTL_MS, codeMatches, hashCode, MAX_CODE_ATTEMPTS, maskAddress, newCode, sendCode } from './verification.js';

interface Owner {
  id: string;
  hospitalId: string;
}

/** The most contacts one person keeps: phones, mailboxes, devices and gateways together. */
const MAX_CONTACTS = 20;

const columns = { id: contacts.id, channel: contacts.channel, address: contacts.address, verifiedAt: contacts.verifiedAt, codeExpiresAt: contacts.codeExpiresAt, createdAt: contacts.createdAt };
type Row = { id: string; channel: Contact['channel']; address: string; verifiedAt: Date | null; codeExpiresAt: Date | null; createdAt: Date };
const toContact = (r: Row): Contact => ({ ...r, verified: r.verifiedAt !== null, verifiedAt: toIsoOrNull(r.verifiedAt), codeExpiresAt: r.verifiedAt ? null : toIsoOrNull(r.codeExpiresAt), createdAt: toIso(r.createdAt) });

/** A person's contacts, for themselves (and admins): always within the hospital. */
export async function listContacts(db: Tx, hospitalId: string, userId: string): Promise<Contact[]> {
  const rows = await db.select(columns).from(contacts).where(and(eq(contacts.hospitalId, hospitalId), eq(contacts.userId, userId))).orderBy(asc(contacts.createdAt), asc(contacts.id));
  return rows.map(toContact);
}

async function findOwn(tx: Tx, owner: Owner, contactId: string, lock = false) {
  const q = tx
    .select({ ...columns, codeHash: contacts.codeHash, codeAttempts: contacts.codeAttempts, codeSentAt: contacts.codeSentAt })
    .from(contacts)
    .where(and(eq(contacts.hospitalId, owner.hospitalId), eq(contacts.userId, owner.id), eq(contacts.id, contactId)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound('Contact');
  return row;
}

/** Issues a new code for an unverified contact and sends it; the row keeps only its HMAC. */
async function issueCode(deps: AppDeps, owner: Owner, contactId: string, channel: Exclude<Contact['channel'], 'push'>, address: string): Promise<void> {
  const code = newCode();
  if ((channel === 'sms' || channel === 'voice') && (await takeTelephonySlot(deps, owner.hospitalId, owner.id))) {
    throw new AppError('TOO_MANY_REQUESTS', 'Too many texts and calls to your numbers this hour: try again later');
  }
  await sendCode(deps.config, { id: contactId, channel, address }, code);
  await deps.db
    .update(contacts)
    .set({ codeHash: hashCode(deps.config.secrets.tokenSecret, contactId, code), codeExpiresAt: new Date(Date.now() + CODE_TTL_MS), codeAttempts: 0, codeSentAt: new Date() })
    .where(eq(contacts.id, contactId));
}

/**
 * notifications.addContact: stores the address unverified and sends it a code. Adding the same
 * address again sends a new code (at most every 30 s) instead of failing.
 */
export async function addContact(deps: AppDeps, audit: AuditContext, owner: Owner, input: AddContactInput): Promise<Contact> {
  const existing = await deps.db
    .select({ ...columns, codeSentAt: contacts.codeSentAt })
    .from(contacts)
    .where(and(eq(contacts.hospitalId, owner.hospitalId), eq(contacts.userId, owner.id), eq(contacts.channel, input.channel), eq(contacts.address, input.address)));
  let row = existing[0];
  if (row?.verifiedAt) return toContact(row);
  if (row?.codeSentAt && Date.now() - row.codeSentAt.getTime() < CODE_RESEND_MS) throw new AppError('TOO_MANY_REQUESTS', 'A code was sent less than 30 seconds ago: wait a moment');
  if (!row) {
    const [{ n }] = (await deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM contacts WHERE hospital_id = ${owner.hospitalId} AND user_id = ${owner.id}`)).rows as [{ n: number }];
    if (n >= MAX_CONTACTS) throw badRequest(`At most ${MAX_CONTACTS} contacts`, { address: [`At most ${MAX_CONTACTS} contacts: remove one first`] });
    [row] = await deps.db
      .insert(contacts)
      .values({ hospitalId: owner.hospitalId, userId: owner.id, channel: input.channel, address: input.address })
      .onConflictDoNothing()
      .returning({ ...columns, codeSentAt: contacts.codeSentAt });
    if (!row) return addContact(deps, audit, owner, input);
  }
  try {
    await issueCode(deps, owner, row.id, input.channel, input.address);
  } catch (err) {
    // A code that could not be sent leaves nothing behind: an address nobody can verify is not kept.
    if (!existing[0]) await deps.db.delete(contacts).where(and(eq(contacts.id, row.id), isNull(contacts.verifiedAt)));
    throw err;
  }
  await logAuditEvent(deps.db, audit, { action: 'contact.added', resource: 'contact', resourceId: row.id, metadata: { channel: input.channel, address: maskAddress(input.channel, input.address) } });
  const added = toContact((await findOwn(deps.db, owner, row.id)) as Row);
  // A pager gateway checks each POST's X-Clarion-Signature with this (derived, so never stored).
  return input.channel === 'webhook' ? { ...added, signingSecret: contactWebhookSecret(deps.config.secrets.tokenSecret, row.id) } : added;
}

/** notifications.verifyContact: the code typed back. Five wrong tries or ten minutes and a new code is needed. */
export async function verifyContact(deps: AppDeps, audit: AuditContext, owner: Owner, contactId: string, code: string): Promise<Contact> {
  const outcome = await deps.db.transaction(async (tx) => {
    const row = await findOwn(tx, owner, contactId, true);
    if (row.verifiedAt) return { ok: true as const, row };
    const expired = !row.codeHash || !row.codeExpiresAt || row.codeExpiresAt.getTime() < Date.now() || row.codeAttempts >= MAX_CODE_ATTEMPTS;
    if (!expired && codeMatches(deps.config.secrets.tokenSecret, contactId, code, row.codeHash as string)) {
      await tx.update(contacts).set({ verifiedAt: new Date(), codeHash: null, codeExpiresAt: null }).where(eq(contacts.id, contactId));
      await logAuditEvent(tx, audit, { action: 'contact.verified', resource: 'contact', resourceId: contactId, metadata: { channel: row.channel, address: maskAddress(row.channel, row.address) } });
      return { ok: true as const, row };
    }
    if (!expired) await tx.update(contacts).set({ codeAttempts: sql`${contacts.codeAttempts} + 1` }).where(eq(contacts.id, contactId));
    await logAuditEvent(tx, audit, { action: 'contact.verify_failed', resource: 'contact', resourceId: contactId, outcome: 'failure', metadata: { channel: row.channel, expired } });
    return { ok: false as const, expired };
  });
  if (!outcome.ok)
    throw badRequest(outcome.expired ? 'This code has expired: send a new one' : 'That code is not right', {
      code: [outcome.expired ? 'This code has expired or was tried too often: send a new one' : 'That code is not right'],
    });
  return toContact((await findOwn(deps.db, owner, contactId)) as Row);
}

/** notifications.removeContact: one's own; audited with the masked address. */
export async function removeContact(deps: AppDeps, audit: AuditContext, owner: Owner, contactId: string): Promise<{ id: string }> {
  return deps.db.transaction(async (tx) => {
    const row = await findOwn(tx, owner, contactId, true);
    await tx.delete(contacts).where(eq(contacts.id, contactId));
    await logAuditEvent(tx, audit, { action: 'contact.removed', resource: 'contact', resourceId: contactId, metadata: { channel: row.channel, address: maskAddress(row.channel, row.address) } });
    return { id: contactId };
  });
}

/** notifications.registerPush: a browser's subscription is its own proof; re-registering refreshes its keys. */
export async function registerPush(deps: AppDeps, audit: AuditContext, owner: Owner, sub: { endpoint: string; keys: { p256dh: string; auth: string } }): Promise<Contact> {
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(contacts)
      .values({ hospitalId: owner.hospitalId, userId: owner.id, channel: 'push', address: sub.endpoint, pushKeys: sub.keys, verifiedAt: new Date() })
      .onConflictDoUpdate({ target: [contacts.userId, contacts.channel, contacts.address], set: { pushKeys: sub.keys, verifiedAt: new Date() } })
      .returning(columns);
    const c = row as Row;
    await logAuditEvent(tx, audit, { action: 'contact.push_registered', resource: 'contact', resourceId: c.id, metadata: { channel: 'push', address: maskAddress('push', sub.endpoint) } });
    return toContact(c);
  });
}
