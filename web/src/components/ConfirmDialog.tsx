import type { ReactNode } from 'react';
import { useModal } from '../lib/useModal.js';

interface ConfirmDialogProps {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}

/** A modal confirmation (native <dialog>: focus is trapped, Escape closes, focus returns after). */
export function ConfirmDialog({ title, children, confirmLabel, busy, error, onConfirm, onClose }: ConfirmDialogProps) {
  const ref = useModal();
  return (
    <dialog ref={ref} className="confirm" aria-labelledby="confirm-title" onCancel={onClose}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="actions">
        <button type="button" className="primary" onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onClose}>
          Back
        </button>
      </div>
    </dialog>
  );
}
