import { useId, useRef, useState } from 'react';

/**
 * A read-only value to copy into another system or pass on (a setup link, an API key shown once):
 * the Copy button uses the clipboard, and where there is none (an insecure origin, permission refused)
 * selects the text for Ctrl+C instead and says so.
 */
export function CopyField({ label, value, copyLabel = 'Copy', copiedText = 'Copied', what = 'text' }: { label: string; value: string; copyLabel?: string; copiedText?: string; what?: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      input.current?.select();
      setCopied('select');
    }
  };
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <div className="setup-link">
        <input id={id} ref={input} className="setup-link-url" readOnly value={value} onFocus={(e) => e.target.select()} />
        <button type="button" className="setup-link-copy" onClick={() => void copy()}>
          {copyLabel}
        </button>
      </div>
      {copied ? (
        <p role="status" className="ok">
          {copied === 'yes' ? copiedText : `Press Ctrl+C to copy the selected ${what}`}
        </p>
      ) : null}
    </>
  );
}
