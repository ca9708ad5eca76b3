import { type ReactNode, useEffect, useId } from 'react';

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  /** Focus the control when it appears (the first field of a single-purpose screen). */
  autoFocus?: boolean;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}

/** A visible label, the control, and its message (announced through aria-describedby). */
export function Field({ label, error, hint, autoFocus, children }: FieldProps) {
  const id = useId();
  useEffect(() => {
    if (autoFocus) document.getElementById(id)?.focus();
  }, [autoFocus, id]);
  const msgId = `${id}-msg`;
  return (
    <div className={`field${error ? ' field-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': error || hint ? msgId : undefined })}
      {error ? (
        <p id={msgId} className="field-message" role="alert">
          {error}
        </p>
      ) : hint ? (
        <p id={msgId} className="field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
