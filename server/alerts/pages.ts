import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { alertPages, alerts, openAlertStatuses, pageAttempts, users } from '../db/schema.js';
import type { Actor } from '../permissions.js';
import { latestEventId } from './events.js';
import { selectAlerts } from './queries.js';
import type { Alert, Page, PageAttempt } from './schemas.js';

type PageRow = typeof alertPages.$inferSelect & { userName: string };

/** The console's words for why this person was paged. */
export function pageReason(target: Page['target'], detail: unknown): string {
  const d = (detail ?? {}) as { room?: string; scheduleName?: string; role?: string };
  switch (target) {
    case 'assigned':
      return d.room ? `assigned, room ${d.room}` : 'assigned';
    case 'charge':
      return 'charge nurse';
    case 'department':
      return 'department';
    case 'schedule':
      return d.scheduleName ? `on call: ${d.scheduleName}` : 'on call';
    case 'role':
      return d.role ? `role: ${d.role.replace('_', ' ')}` : 'role';
    default:
      return 'named';
  }
}

function toPage(r: PageRow): Page {
  const target = r.target as Page['target'];
  return {
    userId: r.userId,
    userName: r.userName,
    level: r.level,
    target,
    reason: pageReason(target, r.targetDetail),
    pagedAt: toIso(r.pagedAt),
    deliveredAt: toIsoOrNull(r.deliveredAt),
    readAt: toIsoOrNull(r.readAt),
    respondedAt: toIsoOrNull(r.respondedAt),
    response: r.response,
  };
}

const pageColumns = { page: alertPages, userName: users.name };

// A provider's refusal can quote the number ("The 'To' number +1555… is not valid"): others see it masked.
export const maskNumbers = (text: string | null) => text && text.replace(/\+\d{3,}(\d{4})/g, (_m, last: string) => `+•••••${last}`);

async function attemptsByPage(db: Tx, alertId: string): Promise<Map<string, PageAttempt[]>> {
  const rows = await db.select().from(pageAttempts).where(eq(pageAttempts.alertId, alertId)).orderBy(asc(pageAttempts.step), asc(pageAttempts.createdAt));
  const byPage = new Map<string, PageAttempt[]>();
  for (const r of rows) {
    const list = byPage.get(r.pageId) ?? [];
    list.push({
      channel: r.channel,
      step: r.step,
      status: r.status,
      dueAt: toIso(r.dueAt),
      sentAt: toIsoOrNull(r.sentAt),
      deliveredAt: toIsoOrNull(r.deliveredAt),
      answeredAt: toIsoOrNull(r.answeredAt),
      answer: r.answer,
      error: maskNumbers(r.error),
    });
    byPage.set(r.pageId, list);
  }
  return byPage;
}

/** Every page of an alert in the order sent, each with its attempts (alerts.getById; the caller has checked visibility). */
export async function pagesOf(db: Tx, alertId: string): Promise<Page[]> {
  const rows = await db
    .select(pageColumns)
    .from(alertPages)
    .innerJoin(users, eq(users.id, alertPages.userId))
    .where(eq(alertPages.alertId, alertId))
    .orderBy(asc(alertPages.level), asc(alertPages.pagedAt), asc(users.name));
  const attempts = rows.length ? await attemptsByPage(db, alertId) : new Map<string, PageAttempt[]>();
  return rows.map((r) => ({ ...toPage({ ...r.page, userName: r.userName }), attempts: attempts.get(r.page.id) ?? [] }));
}

/** alerts.myPages: my open alerts that paged me, most urgent first, each with my latest page. */
export async function myPages(db: Tx, actor: Actor): Promise<{ items: { alert: Alert; page: Page }[]; lastEventId: string }> {
  return db.transaction(
    async (tx) => {
      const rows = await tx
        .select(pageColumns)
        .from(alertPages)
        .innerJoin(users, eq(users.id, alertPages.userId))
        .innerJoin(alerts, eq(alerts.id, alertPages.alertId))
        .where(and(eq(alertPages.userId, actor.id), eq(alertPages.hospitalId, actor.hospitalId), inArray(alerts.status, [...openAlertStatuses])))
        .orderBy(desc(alertPages.level));
      const latest = new Map<string, Page>();
      for (const r of rows) if (!latest.has(r.page.alertId)) latest.set(r.page.alertId, toPage({ ...r.page, userName: r.userName }));
      const list = latest.size
        ? await selectAlerts(tx, and(eq(alerts.hospitalId, actor.hospitalId), inArray(alerts.id, [...latest.keys()])), [desc(alerts.priority), asc(alerts.createdAt), asc(alerts.id)])
        : [];
      return { items: list.map((alert) => ({ alert, page: latest.get(alert.id) as Page })), lastEventId: String(await latestEventId(tx, actor.hospitalId)) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** A paged person answered (acknowledged or declined): their open pages of that alert say so. */
export async function recordPageResponse(db: Tx, alertId: string, userId: string, response: 'acknowledged' | 'declined'): Promise<void> {
  await db
    .update(alertPages)
    .set({ response, respondedAt: sql`now()` })
    .where(and(eq(alertPages.alertId, alertId), eq(alertPages.userId, userId), sql`${alertPages.response} IS NULL`));
}

/** A board of a paged person reported the alert delivered or seen: the page carries the first time. */
export async function recordPageReceipts(db: Tx, userId: string, delivered: string[], seen: string[]): Promise<void> {
  if (delivered.length) {
    await db
      .update(alertPages)
      .set({ deliveredAt: sql`coalesce(${alertPages.deliveredAt}, now())` })
      .where(and(eq(alertPages.userId, userId), inArray(alertPages.alertId, delivered), sql`${alertPages.deliveredAt} IS NULL`));
  }
  if (seen.length) {
    await db
      .update(alertPages)
      .set({ readAt: sql`now()`, deliveredAt: sql`coalesce(${alertPages.deliveredAt}, now())` })
      .where(and(eq(alertPages.userId, userId), inArray(alertPages.alertId, seen), sql`${alertPages.readAt} IS NULL`));
  }
}

/** The open alerts paged to a user (the fan-out's starting set for that user's screens). */
export async function openPagedAlerts(db: Tx, hospitalId: string, userId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ id: alertPages.alertId })
    .from(alertPages)
    .innerJoin(alerts, eq(alerts.id, alertPages.alertId))
    .where(and(eq(alertPages.userId, userId), eq(alertPages.hospitalId, hospitalId), inArray(alerts.status, [...openAlertStatuses])));
  return rows.map((r) => r.id);
}
