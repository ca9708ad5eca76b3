import { useCallback, useRef, useState } from 'react';
import type { AlertEvent, Page } from '../../../server/alerts/schemas.js';
import { client } from '../lib/api.js';
import { useAlertFeed } from '../lib/useAlertFeed.js';

export type { Page };

/** The user ids a `paged` event names (detail: { level, userIds, targets }). */
export function pagedUserIds(event: AlertEvent): string[] {
  if (event.type !== 'paged') return [];
  const ids = (event.detail as { userIds?: unknown } | null)?.userIds;
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The alerts paged to me, live: alerts.myPages, then alerts.onEvent from its lastEventId (the board's
 * feed, with another snapshot). The subscription also carries my department's other alerts: only a
 * `paged` event naming me adds one; events of alerts already here update or remove them as on the board.
 * Each alert keeps my latest page (why I was paged, at which level, my answer); a new page's reason is
 * not in the event, so it is read from alerts.getById (blank until then).
 */
export function useMyPages(userId: string, onNewPage: (event: AlertEvent) => void, onEvent?: (event: AlertEvent) => void) {
  const [pages, setPages] = useState<ReadonlyMap<string, Page>>(new Map());
  const onNewPageRef = useRef(onNewPage);
  onNewPageRef.current = onNewPage;

  const setPage = useCallback((alertId: string, update: (p: Page | undefined) => Page | undefined) => {
    setPages((m) => {
      const next = update(m.get(alertId));
      if (!next) return m;
      return new Map(m).set(alertId, next);
    });
  }, []);

  const snapshot = useCallback(async () => {
    const mine = await client.alerts.myPages.query();
    setPages(new Map(mine.items.map((i) => [i.alert.id, i.page])));
    return { alerts: mine.items.map((i) => i.alert), lastEventId: mine.lastEventId };
  }, []);

  const feed = useAlertFeed({
    snapshot,
    admits: (e) => pagedUserIds(e).includes(userId),
    onEvent: (e) => {
      const id = e.alert.id;
      if (pagedUserIds(e).includes(userId)) {
        const level = Number((e.detail as { level?: unknown } | null)?.level ?? e.alert.escalationLevel);
        const placeholder: Page = { userId, userName: '', level, target: 'user', reason: '', pagedAt: e.occurredAt, deliveredAt: null, readAt: null, respondedAt: null, response: null };
        setPage(id, (p) => (p && p.level >= level ? p : placeholder));
        void client.alerts.getById
          .query({ alertId: id })
          .then((d) => {
            const latest = d.pages.filter((p) => p.userId === userId).sort((a, b) => b.level - a.level)[0];
            if (latest) setPage(id, () => latest);
          })
          .catch(() => undefined);
        onNewPageRef.current(e);
      } else if ((e.type === 'declined' || e.type === 'acknowledged') && e.actorId === userId) {
        const response = e.type;
        setPage(id, (p) => (p ? { ...p, response, respondedAt: e.occurredAt } : p));
      }
      onEvent?.(e);
    },
  });
  return { feed, pages };
}
