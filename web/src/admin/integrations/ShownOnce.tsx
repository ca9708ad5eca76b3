import { useId, useRef, useState } from 'react';

/**
 * A secret the server answers once (an API key, a webhook's signing secret): Clarion keeps only a hash
 * or can derive it again, so this is the one moment to copy it into the other system.
 */
export function ShownOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      // No clipboard (an insecure origin, or permission refused): select it for Ctrl+C instead.
      input.current?.select();
      setCopied('select');
    }
  };
  return (
    <section className="card shown-once" aria-label={label}>
      <label htmlFor={id}>{label}</label>
      <div className="setup-link">
        <input id={id} ref={input} className="setup-link-url" readOnly value={value} onFocus={(e) => e.target.select()} />
        <button type="button" className="setup-link-copy" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="notice">Shown once: store it in the integration's configuration now.</p>
      {copied ? <p role="status" className="ok">{copied === 'yes' ? 'Copied' : 'Press Ctrl+C to copy the selected text'}</p> : null}
      <button type="button" onClick={onDone}>
        Done
      </button>
    </section>
  );
}
