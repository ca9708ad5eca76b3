import { useQuery } from '@tanstack/react-query';
import type { RulesOutput } from '../../../server/notifications/schemas.js';
import { errorMessage, useTRPC } from '../lib/api.js';
import { priorityLabel } from '../lib/format.js';
import { ReachContacts } from './ReachContacts.js';
import { ReachDevice, useThisDevice } from './ReachDevice.js';
import { ReachRules } from './ReachRules.js';
import './Reach.css';

const ORDER = ['critical', 'high', 'medium', 'low'] as const;

/** "Critical and High" / "Critical, High and Medium": the unreachable priorities, most urgent first. */
function listed(priorities: RulesOutput['unreachable']): string {
  const words = ORDER.filter((p) => priorities.includes(p)).map((p) => priorityLabel[p] as string);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? '');
}

/**
 * How Clarion reaches me: push on this device, my verified phones, mailboxes and webhooks, and for each priority the
 * steps tried while a page is unanswered. A nurse sets this up on her phone, a doctor before a night
 * on call; until a step has a verified contact, pages reach the screens only, and the page says so.
 */
export function Reach() {
  const trpc = useTRPC();
  const q = useQuery(trpc.notifications.getRules.queryOptions());
  const device = useThisDevice();
  if (q.isError) return <p role="alert">{errorMessage(q.error)}</p>;
  if (!q.data)
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  const { rules, custom, contacts, unreachable } = q.data;
  return (
    <main className="reach">
      <h1>How Clarion reaches me</h1>
      <div role="status">
        {unreachable.length ? (
          <p className="notice reach-warning">
            Pages of <strong>{listed(unreachable)}</strong> priority reach your screens only:{' '}
            {contacts.some((c) => c.verified) ? 'add a step with a verified contact to their rules below' : 'add and verify a phone or email'}.
          </p>
        ) : null}
      </div>
      <div className="reach-column">
        <ReachDevice device={device} contacts={contacts} />
        <ReachContacts contacts={contacts} thisDevice={device.endpoint} />
      </div>
      <ReachRules rules={rules} custom={custom} contacts={contacts} />
    </main>
  );
}
