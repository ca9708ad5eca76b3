import type { FieldErrors } from '../../lib/validate.js';
import './Notifications.css';
import { type DefaultsDraft, RoleDefaults } from './RoleDefaults.js';

export type Detail = 'minimal' | 'full';

interface Props {
  detail: Detail;
  onDetail: (d: Detail) => void;
  defaults: DefaultsDraft;
  onDefaults: (d: DefaultsDraft) => void;
  errors: FieldErrors;
}

const WARNING_ID = 'notification-detail-warning';

/**
 * Settings › Notifications: what a page says where anyone may read it (a lock screen, a text
 * message, an email preview), and how each role is reached by default. Minimal is the safe choice:
 * Full puts the alert title, often the patient's condition, on every phone paged.
 */
export function NotificationsSection({ detail, onDetail, defaults, onDefaults, errors }: Props) {
  return (
    <fieldset className="card notifications">
      <legend>Notifications</legend>
      <p className="muted">What reaches the phones of the people paged: push notifications, text messages, calls and emails.</p>
      <fieldset className="notify-detail">
        <legend>What a lock screen or text message says</legend>
        <label className="radio">
          <input type="radio" name="notificationDetail" value="minimal" checked={detail === 'minimal'} onChange={() => onDetail('minimal')} />
          <span>
            <strong>Minimal</strong> — no patient detail on lock screens (recommended)
            <span className="radio-example">“CRITICAL · ICU · room 312”</span>
          </span>
        </label>
        <label className="radio">
          <input type="radio" name="notificationDetail" value="full" checked={detail === 'full'} onChange={() => onDetail('full')} aria-describedby={detail === 'full' ? WARNING_ID : undefined} />
          <span>
            <strong>Full</strong> — adds the alert title
            <span className="radio-example">“CRITICAL · ICU · room 312 · Cardiac arrest”</span>
          </span>
        </label>
        {/* Live, so choosing Full is announced with what it means. */}
        <div aria-live="polite">
          {detail === 'full' ? (
            <p id={WARNING_ID} className="field-warning">
              Warning: lock screens show the title to anyone nearby. The alert title often names the patient’s condition, and a phone shows it without being unlocked — on a
              desk, in a pocket, to a visitor. Choose Full only if your privacy officer agrees.
            </p>
          ) : null}
        </div>
        {errors.notificationDetail ? (
          <p className="field-message" role="alert">
            {errors.notificationDetail}
          </p>
        ) : null}
      </fieldset>
      <RoleDefaults defaults={defaults} onChange={onDefaults} errors={errors} />
    </fieldset>
  );
}
