import { useState } from 'react';

/** A full id, selectable, with a Copy button (clipboard where the page may use it, else the text is selected). */
export function CopyId({ id, label }: { id: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = (e: React.MouseEvent<HTMLButtonElement>) => {
    const code = e.currentTarget.previousElementSibling;
    const select = () => {
      if (code) window.getSelection()?.selectAllChildren(code);
    };
    if (navigator.clipboard?.writeText) navigator.clipboard.writeText(id).then(() => setCopied(true), select);
    else select();
  };
  return (
    <span className="copy-id">
      <code>{id}</code>
      <button type="button" onClick={copy} aria-label={`${copied ? 'Copied' : 'Copy'} ${label}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}
