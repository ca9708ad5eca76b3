import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import type { Contact } from '../../../server/notifications/schemas.js';
import { client, errorMessage, useTRPC } from '../lib/api.js';
import { currentSubscription, disablePush, enablePush, fetchPushConfig, PushSetupError, type PushSupport, pushSupport } from '../lib/push.js';

export interface ThisDevice {
  support: PushSupport;
  permission: NotificationPermission | null;
  /** This browser's push subscription endpoint (null: none, or not known yet). */
  endpoint: string | null;
  checked: boolean;
  refresh: () => void;
}

/** What this browser says about notifications, re-read when its permission changes in site settings. */
export function useThisDevice(): ThisDevice {
  const support = pushSupport();
  const [state, setState] = useState<{ permission: NotificationPermission | null; endpoint: string | null; checked: boolean }>({ permission: null, endpoint: null, checked: false });
  const refresh = useCallback(() => {
    const permission = support === 'unsupported' ? null : Notification.permission;
    currentSubscription()
      .catch(() => null)
      .then((sub) => setState({ permission, endpoint: sub?.endpoint ?? null, checked: true }));
  }, [support]);
  useEffect(() => {
    refresh();
    let status: PermissionStatus | undefined;
    navigator.permissions
      ?.query({ name: 'notifications' })
      .then((s) => {
        status = s;
        s.onchange = refresh;
      })
      .catch(() => undefined);
    return () => {
      if (status) status.onchange = null;
    };
  }, [refresh]);
  return { support, ...state, refresh };
}

const UNSUPPORTED =
  'This browser cannot get push notifications. On an iPhone or iPad they work once Clarion is on the Home Screen: tap Share, then Add to Home Screen, and open Clarion from there. Elsewhere use a current Chrome, Edge, Firefox or Safari, or add an SMS number below.';
const INSECURE = 'This page was opened without a secure (https://) connection, and browsers allow push notifications only over https. Open Clarion at its https:// address.';

function Blocked() {
  return (
    <div className="reach-device-blocked">
      <p className="error">Notifications are blocked for Clarion in this browser.</p>
      <p>To allow them:</p>
      <ol>
        <li>Tap the icon at the left of the address bar (a lock or a slider).</li>
        <li>Open Permissions or Site settings and set Notifications to Allow.</li>
        <li>Come back to this page (reload it if nothing changes).</li>
      </ol>
      <p className="muted">In the installed app: the phone's Settings, then Apps, Clarion, Notifications.</p>
    </div>
  );
}

/** "This device": allow push here (the permission prompt, the subscription, registerPush), or stop it. */
export function ReachDevice({ device, contacts }: { device: ThisDevice; contacts: Contact[] }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const supported = device.support === 'supported';
  const config = useQuery({ queryKey: ['notifications', 'pushConfig'], queryFn: fetchPushConfig, enabled: supported, staleTime: Number.POSITIVE_INFINITY, retry: false });
  const after = () => {
    device.refresh();
    return qc.invalidateQueries({ queryKey: trpc.notifications.getRules.queryKey() });
  };
  const enable = useMutation({ mutationFn: enablePush, onSettled: after });
  const contact = contacts.find((c) => c.channel === 'push' && c.address === device.endpoint);
  const disable = useMutation({
    mutationFn: async () => {
      await disablePush();
      if (contact) await client.notifications.removeContact.mutate({ contactId: contact.id });
    },
    onSettled: after,
  });
  const failure = enable.error instanceof PushSetupError ? enable.error : null;

  // The state is one live region (announced when it changes); the buttons and errors sit after it.
  let state: ReactNode;
  let controls: ReactNode = null;
  if (device.support === 'unsupported') state = <p>{UNSUPPORTED}</p>;
  else if (device.support === 'insecure') state = <p>{INSECURE}</p>;
  else if (config.isError) state = <p className="error">Could not ask the server whether push notifications are set up: {errorMessage(config.error)}</p>;
  else if (!config.data || !device.checked) state = <p className="muted">Checking this device…</p>;
  else if (!config.data.publicKey) state = <p>Push notifications are not set up on this Clarion server yet: ask your IT team to turn on Web Push.</p>;
  else if (device.permission === 'denied') state = <Blocked />;
  else if (contact && device.permission === 'granted') {
    state = <p className="ok">✓ Notifications allowed: pages reach this device, also when Clarion is closed.</p>;
    controls = (
      <>
        <button type="button" disabled={disable.isPending} onClick={() => disable.mutate()}>
          {disable.isPending ? 'Stopping…' : 'Stop notifications on this device'}
        </button>
        {disable.isError ? <p role="alert">Could not stop them: {errorMessage(disable.error)}</p> : null}
      </>
    );
  } else {
    const publicKey = config.data.publicKey;
    state = <p>Pages can reach this device as notifications, with Acknowledge and Decline on them, also when Clarion is closed.</p>;
    controls = (
      <>
        <button type="button" className="primary" disabled={enable.isPending} onClick={() => enable.mutate(publicKey)}>
          {enable.isPending ? 'Setting up…' : 'Allow notifications on this device'}
        </button>
        {enable.isError && failure?.problem !== 'blocked' ? (
          <p role="alert" className="reach-device-error">
            <strong>{failure ? failure.message : 'This device could not be registered with Clarion.'}</strong> {failure ? failure.advice : errorMessage(enable.error)}
          </p>
        ) : null}
      </>
    );
  }
  return (
    <section className="card reach-device" aria-labelledby="reach-device-title">
      <h2 id="reach-device-title" className="card-title">
        This device
      </h2>
      <div role="status" className="reach-device-state">
        {state}
      </div>
      {controls}
    </section>
  );
}
