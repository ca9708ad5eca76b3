import { type ReactNode, useEffect, useId } from 'react';

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  /** An allowed but risky value, said in words (shown with the hint, never instead of an error). */
  warning?: string;
  /** Focus the control when it appears (the first field of a single-purpose screen). */
  autoFocus?: boolean;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}

/** A visible label, the control, and its message (announced through aria-describedby). */
export function Field({ label, error, hint, warning, autoFocus, children }: FieldProps) {
  const id = useId();
  useEffect(() => {
    if (autoFocus) document.getElementById(id)?.focus();
  }, [autoFocus, id]);
  const msgId = `${id}-msg`;
  const warnId = `${id}-warn`;
  const describedBy = [error || hint ? msgId : '', warning && !error ? warnId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {error ? (
        <p id={msgId} className="field-message" role="alert">
          {error}
        </p>
      ) : hint ? (
        <p id={msgId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {warning && !error ? (
        <p id={warnId} className="field-warning">
          {warning}
        </p>
      ) : null}
    </div>
  );
}
