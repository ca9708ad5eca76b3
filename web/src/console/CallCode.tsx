import type { SessionUser } from '../lib/session.js';
import { CallCodeForm } from './CallCodeForm.js';

/**
 * Call a code from anywhere, not only the console: the nurse who finds a patient in arrest calls the
 * Code Blue herself (the same form and confirm step as the console's).
 */
export function CallCode({ user }: { user: SessionUser }) {
  return (
    <main className="call-code-page">
      <h1>Call a hospital code</h1>
      <p className="muted">Pages the code team at once and sounds on every board of the hospital, even muted ones.</p>
      <CallCodeForm departmentId={user.departmentId} />
    </main>
  );
}
