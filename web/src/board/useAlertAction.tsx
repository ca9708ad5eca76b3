import { useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { client, errorCode, errorMessage } from '../lib/api.js';
import type { Alert } from '../lib/alertStore.js';

export type AlertAction = 'acknowledge' | 'resolve' | 'cancel' | 'escalate';

const labels: Record<AlertAction, { verb: string; confirm: string }> = {
  acknowledge: { verb: 'Acknowledge', confirm: 'Yes, acknowledge' },
  resolve: { verb: 'Resolve', confirm: 'Yes, resolve' },
  cancel: { verb: 'Cancel', confirm: 'Yes, cancel alert' },
  escalate: { verb: 'Escalate', confirm: 'Yes, escalate' },
};

/**
 * Acting on an alert always goes through a confirmation step (a mis-tap on a wall screen must not
 * silence a cardiac arrest). The screen updates from the event the server sends back, not from here.
 */
export function useAlertAction() {
  const [pending, setPending] = useState<{ action: AlertAction; alert: Alert } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      await client.alerts[pending.action].mutate({ alertId: pending.alert.id });
      setPending(null);
    } catch (err) {
      setError(errorCode(err) === 'CONFLICT' ? 'Someone else has already changed this alert.' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const dialog = pending ? (
    <ConfirmDialog
      title={`${labels[pending.action].verb} “${pending.alert.title}”${pending.alert.roomNumber ? ` in room ${pending.alert.roomNumber}` : ''}?`}
      confirmLabel={labels[pending.action].confirm}
      busy={busy}
      error={error}
      onConfirm={() => void run()}
      onClose={() => {
        setPending(null);
        setError(null);
      }}
    />
  ) : null;

  return { ask: (action: AlertAction, alert: Alert) => setPending({ action, alert }), dialog };
}
