import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { z } from 'zod';
import type { deliverySchema } from '../../../../server/integrations/webhook-schemas.js';
import { errorMessage, useTRPC } from '../../lib/api.js';
import { when } from '../../lib/format.js';
import { deliveryStatusLabel, eventLabel } from './labels.js';

type Delivery = z.infer<typeof deliverySchema>;

/** A status in words: a first try not made yet is not a retry. */
function statusWords(d: Delivery): string {
  if (d.status === 'pending' && d.attempts === 0) return 'Waiting to send';
  return deliveryStatusLabel[d.status] ?? d.status;
}

/** What the receiver last said: its HTTP status, or why there was no answer. */
function lastAnswer(d: Delivery): string {
  if (d.lastError) return d.lastStatus && !d.lastError.includes(String(d.lastStatus)) ? `HTTP ${d.lastStatus}: ${d.lastError}` : d.lastError;
  if (d.lastStatus) return `HTTP ${d.lastStatus}`;
  return d.attempts ? '—' : 'Not tried yet';
}

/** The last deliveries to one webhook (the worker sends them in the background: Refresh re-reads). */
export function Deliveries({ webhookId, url }: { webhookId: string; url: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const opts = trpc.integrations.webhookDeliveries.queryOptions({ webhookId, limit: 50 });
  const q = useQuery({ ...opts, refetchInterval: 10_000 });
  const refresh = () => qc.invalidateQueries({ queryKey: opts.queryKey });
  const redeliver = useMutation(trpc.integrations.redeliverWebhook.mutationOptions({ onSuccess: () => void refresh() }));
  const list = q.data?.deliveries ?? [];
  return (
    <div className="integrations-deliveries">
      <div className="actions">
        <h4>Deliveries to {url}</h4>
        <button type="button" onClick={() => void refresh()} disabled={q.isFetching}>
          Refresh
        </button>
      </div>
      {q.isPending ? <p className="empty" role="status">Loading deliveries…</p> : null}
      {q.isError ? <p role="alert">{errorMessage(q.error)}</p> : null}
      {redeliver.isError ? <p role="alert">{errorMessage(redeliver.error)}</p> : null}
      {q.data && list.length === 0 ? <p className="empty">Nothing sent yet: a delivery appears with the next event this webhook asked for.</p> : null}
      {list.length ? (
        <table className="data stack-table">
          <caption className="sr-only">Deliveries to {url}</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Tries</th>
              <th scope="col">Last answer</th>
              <th scope="col">Next try</th>
              <th scope="col"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id}>
                <td data-label="Event">
                  {eventLabel(d.eventType)} <span className="muted">{when(d.createdAt)}</span>
                </td>
                <td data-label="Status">
                  <span className={`delivery-status delivery-${d.status}`}>{statusWords(d)}</span>
                  {d.status === 'delivered' && d.deliveredAt ? <span className="muted"> {when(d.deliveredAt)}</span> : null}
                </td>
                <td data-label="Tries">{d.attempts}</td>
                <td data-label="Last answer">{lastAnswer(d)}</td>
                <td data-label="Next try">{d.status === 'pending' || d.status === 'sending' ? when(d.nextAttemptAt) : '—'}</td>
                <td>
                    <div className="row-actions">
                  {d.status === 'dead' || d.status === 'delivered' ? (
                    <button type="button" disabled={redeliver.isPending} onClick={() => redeliver.mutate({ deliveryId: d.id })} aria-label={`Redeliver ${eventLabel(d.eventType)} of ${when(d.createdAt)}`}>
                      Redeliver
                    </button>
                  ) : null}
                  </div>
                  </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
