import { useState } from 'react';
import { DECLINE_PRESETS, declineInput } from '../../../server/alerts/schemas.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Field } from '../components/Field.js';
import { client, errorCode, errorMessage } from '../lib/api.js';
import type { Alert } from '../lib/alertStore.js';

export type AlertAction = 'acknowledge' | 'resolve' | 'cancel' | 'escalate' | 'decline';

const labels: Record<AlertAction, { verb: string; confirm: string }> = {
  acknowledge: { verb: 'Acknowledge', confirm: 'Yes, acknowledge' },
  resolve: { verb: 'Resolve', confirm: 'Yes, resolve' },
  cancel: { verb: 'Cancel', confirm: 'Yes, cancel alert' },
  escalate: { verb: 'Escalate', confirm: 'Yes, escalate' },
  decline: { verb: 'Decline', confirm: 'Decline alert' },
};

const reasonSchema = declineInput.shape.reason;


/**
 * Resolving, cancelling and escalating go through a confirmation step (a mis-tap on a wall screen must
 * not close a cardiac arrest); the ward board acknowledges in one tap with an undo instead
 * (useUndoableAck). Declining asks why: a preset reason in one tap, or "Other…" to type one. The screen updates from the event the server
 * sends back, not from here.
 */
export function useAlertAction() {
  const [pending, setPending] = useState<{ action: AlertAction; alert: Alert } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>();
  const [preset, setPreset] = useState<string | null>(null);
  const [other, setOther] = useState(false);

  const close = () => {
    setPending(null);
    setError(null);
    setReason('');
    setReasonError(undefined);
    setPreset(null);
    setOther(false);
  };

  const run = async () => {
    if (!pending) return;
    setError(null);
    let declineReason = '';
    if (pending.action === 'decline') {
      if (!preset && !other) {
        setReasonError('Choose a reason, or Other… to type one');
        return;
      }
      const parsed = reasonSchema.safeParse(preset ?? reason);
      if (!parsed.success) {
        setReasonError(parsed.error.issues[0]?.message ?? 'Invalid');
        return;
      }
      setReasonError(undefined);
      declineReason = parsed.data;
    }
    setBusy(true);
    try {
      const alertId = pending.alert.id;
      if (pending.action === 'decline') await client.alerts.decline.mutate({ alertId, reason: declineReason });
      else await client.alerts[pending.action].mutate({ alertId });
      close();
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
      onClose={close}
    >
      {pending.action === 'decline' ? (
        <>
          <p>The alert goes up to the next escalation level at once, so someone else takes it.</p>
          <fieldset className="decline-reasons">
            <legend>Why can you not take it?</legend>
            {DECLINE_PRESETS.map((p) => (
              <button
                key={p}
                type="button"
                aria-pressed={preset === p}
                onClick={() => {
                  setPreset(p);
                  setOther(false);
                  setReasonError(undefined);
                }}
              >
                {p}
              </button>
            ))}
            <button
              type="button"
              aria-pressed={other}
              onClick={() => {
                setOther(true);
                setPreset(null);
                setReasonError(undefined);
              }}
            >
              Other…
            </button>
          </fieldset>
          {!other && reasonError ? (
            <p role="alert" className="field-message">
              {reasonError}
            </p>
          ) : null}
          {other ? (
            <Field label="Reason" error={reasonError} hint="Why you cannot take it, e.g. “In theatre with another patient”" autoFocus>
              {(p) => (
                <input
                  {...p}
                  value={reason}
                  maxLength={500}
                  onChange={(e) => {
                    setReason(e.target.value);
                    setReasonError(undefined);
                  }}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      void run();
                    }
                  }}
                />
              )}
            </Field>
          ) : null}
        </>
      ) : null}
    </ConfirmDialog>
  ) : null;

  return { ask: (action: AlertAction, alert: Alert) => setPending({ action, alert }), dialog };
}
