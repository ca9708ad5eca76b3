import { useId, useRef, useState } from 'react';
import type { SetupLink } from '../../../../server/accounts/schemas.js';
import { dateTime } from '../../lib/format.js';

/**
 * A one-time setup link as the server answered it: emailed to the user (then only they hold it), or
 * shown here to copy and pass on when there is no mail server or the email could not be sent.
 */
export function SetupLinkBox({ link, email }: { link: SetupLink; email: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select' | null>(null);

  if (!link.url) {
    return (
      <p role="status" className="ok">
        Setup link emailed to {email}. It works once, until {dateTime(link.expiresAt)}.
      </p>
    );
  }

  const url = link.url;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('yes');
    } catch {
      // No clipboard (an insecure origin, or permission refused): select it for Ctrl+C instead.
      input.current?.select();
      setCopied('select');
    }
  };

  return (
    <div className="setup-link-box">
      <label htmlFor={id}>Setup link</label>
      <div className="setup-link">
        <input id={id} ref={input} className="setup-link-url" readOnly value={url} onFocus={(e) => e.target.select()} />
        <button type="button" className="setup-link-copy" onClick={() => void copy()}>
          Copy link
        </button>
      </div>
      <p className="muted">
        Give this link to {email} only: whoever opens it chooses the password. It works once, until {dateTime(link.expiresAt)}, and replaces any earlier link.
      </p>
      {copied ? <p role="status" className="ok">{copied === 'yes' ? 'Link copied' : 'Press Ctrl+C to copy the selected link'}</p> : null}
    </div>
  );
}
