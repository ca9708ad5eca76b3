import type { SetupLink } from '../../../../server/accounts/schemas.js';
import { CopyField } from '../../components/CopyField.js';
import { dateTime } from '../../lib/format.js';

/**
 * A one-time setup link as the server answered it: emailed to the user (then only they hold it), or
 * shown here to copy and pass on when there is no mail server or the email could not be sent.
 */
export function SetupLinkBox({ link, email }: { link: SetupLink; email: string }) {
  if (!link.url) {
    return (
      <p role="status" className="ok">
        Setup link emailed to {email}. It works once, until {dateTime(link.expiresAt)}.
      </p>
    );
  }
  return (
    <div className="setup-link-box">
      <CopyField label="Setup link" value={link.url} copyLabel="Copy link" copiedText="Link copied" what="link" />
      <p className="muted">
        Give this link to {email} only: whoever opens it chooses the password. It works once, until {dateTime(link.expiresAt)}, and replaces any earlier link.
      </p>
    </div>
  );
}
