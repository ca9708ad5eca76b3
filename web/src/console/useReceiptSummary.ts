import { useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { useTRPC } from '../lib/api.js';
import { type Alert, OPEN_STATUSES } from '../lib/alertStore.js';

export const RECEIPTS_POLL_MS = 3_000;
const MAX_IDS = 100; // the server's limit per call

export interface ReceiptSummary {
  alertId: string;
  deliveredScreens: number;
  /** Of those, screens of the alert's own department (not a head doctor's hospital-wide board). */
  departmentScreens: number;
  seenBy: string[];
  acknowledgedBy: string | null;
}

/**
 * Delivery receipts of the open recent alerts, polled every few seconds. A closed alert keeps the
 * last summary it had (it is no longer polled: nothing more will be delivered).
 */
export function useReceiptSummary(alerts: Alert[]): Map<string, ReceiptSummary> {
  const trpc = useTRPC();
  const ids = alerts
    .filter((a) => OPEN_STATUSES.has(a.status))
    .map((a) => a.id)
    .slice(0, MAX_IDS)
    .sort();
  const query = useQuery({
    ...trpc.alerts.receiptSummary.queryOptions({ alertIds: ids }),
    enabled: ids.length > 0,
    refetchInterval: RECEIPTS_POLL_MS,
    staleTime: 0,
    placeholderData: (prev) => prev,
  });
  const last = useRef(new Map<string, ReceiptSummary>());
  for (const s of query.data ?? []) last.current.set(s.alertId, s);
  // Bounded by the recent list: forget alerts that have left it.
  const listed = new Set(alerts.map((a) => a.id));
  for (const id of last.current.keys()) if (!listed.has(id)) last.current.delete(id);
  return last.current;
}
