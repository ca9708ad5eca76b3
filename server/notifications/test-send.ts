import { and, eq, isNotNull } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { contacts } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { send, testMessage } from './deliver.js';
import { takeTelephonySlot } from './rate-limits.js';
import type { Channel } from './schemas.js';

type Owner = { id: string; hospitalId: string };

/**
 * notifications.test ("Send test" on the reach page): one test message to each of my verified
 * contacts on that channel, so a nurse finds a silenced phone or a wrong number before a page does.
 * Counted against the same SMS/voice limits as pages (a test button is an easy way to spend money).
 */
export async function sendTest(deps: AppDeps, audit: AuditContext, owner: Owner, channel: Channel): Promise<{ sent: number; failed: { contactId: string; error: string }[] }> {
  const mine = await deps.db
    .select({ id: contacts.id, channel: contacts.channel, address: contacts.address, pushKeys: contacts.pushKeys })
    .from(contacts)
    .where(and(eq(contacts.hospitalId, owner.hospitalId), eq(contacts.userId, owner.id), eq(contacts.channel, channel), isNotNull(contacts.verifiedAt)));
  if (!mine.length) throw new AppError('PRECONDITION_FAILED', `You have no verified ${channel === 'push' ? 'device' : channel} contact to test`);
  let sent = 0;
  const failed: { contactId: string; error: string }[] = [];
  for (const c of mine) {
    try {
      const limited = channel === 'sms' || channel === 'voice' ? await takeTelephonySlot(deps, owner.hospitalId, owner.id) : null;
      if (limited) throw new Error(limited);
      await send(deps.config, { channel: c.channel, contactId: c.id, address: c.address, pushKeys: c.pushKeys as { p256dh: string; auth: string } | null }, testMessage());
      sent++;
    } catch (err) {
      failed.push({ contactId: c.id, error: (err instanceof Error ? err.message : String(err)).slice(0, 300) });
    }
  }
  await logAuditEvent(deps.db, audit, { action: 'contact.tested', resource: 'user', resourceId: owner.id, metadata: { channel, sent, failed: failed.length } });
  return { sent, failed };
}
