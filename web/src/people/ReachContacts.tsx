import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type AddContactInput, addContactInput, type Channel, type Contact, verifyContactInput } from '../../../server/notifications/schemas.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Field } from '../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { clock } from '../lib/format.js';
import { type FieldErrors, validate } from '../lib/validate.js';

export const channelLabel: Record<Channel, string> = { push: 'Push', sms: 'SMS', voice: 'Phone call', email: 'Email', webhook: 'Webhook' };
type Addable = AddContactInput['channel'];
const ADDABLE: Addable[] = ['sms', 'voice', 'email', 'webhook'];

/** The address input each channel wants: a phone keypad for numbers, the @ keyboard for mail. */
const addressInput: Record<Addable, { label: string; hint: string; type: string; inputMode: 'tel' | 'email' | 'url'; autoComplete: string; placeholder: string }> = {
  sms: { label: 'Mobile number', hint: '+15550100123 with the country code', type: 'tel', inputMode: 'tel', autoComplete: 'tel', placeholder: '+15550100123' },
  voice: { label: 'Phone number', hint: '+15550100123 with the country code', type: 'tel', inputMode: 'tel', autoComplete: 'tel', placeholder: '+15550100123' },
  email: { label: 'Email address', hint: 'The code is mailed to it', type: 'email', inputMode: 'email', autoComplete: 'email', placeholder: 'name@hospital.org' },
  webhook: { label: 'Webhook URL', hint: 'Clarion POSTs the code, then each page, as JSON', type: 'url', inputMode: 'url', autoComplete: 'off', placeholder: 'https://pager.example.org/clarion' },
};

/** Every change to contacts changes what is reachable: getRules answers both. */
function useRefresh() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: trpc.notifications.getRules.queryKey() });
}

/** One contact: verified, or waiting for the code that was sent to it (typed here). */
function ContactItem({ contact, focusCode, thisDevice }: { contact: Contact; focusCode: boolean; thisDevice: string | null }) {
  const trpc = useTRPC();
  const refresh = useRefresh();
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [confirming, setConfirming] = useState(false);
  const verify = useMutation(trpc.notifications.verifyContact.mutationOptions({ onSuccess: refresh, onError: (err) => setErrors(serverFieldErrors(err)) }));
  const resend = useMutation(trpc.notifications.addContact.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.notifications.removeContact.mutationOptions({ onSuccess: () => refresh().then(() => setConfirming(false)) }));
  const test = useMutation(trpc.notifications.test.mutationOptions());
  // A push contact's address is its endpoint, meaningless to a person: say which device it is.
  const what = contact.channel !== 'push' ? contact.address : contact.address === thisDevice ? 'This device' : 'Another device or browser';
  const expired = !contact.verified && (!contact.codeExpiresAt || Date.parse(contact.codeExpiresAt) < Date.now());

  return (
    <li className="reach-contact">
      <div className="reach-contact-head">
        <span className="reach-channel">{channelLabel[contact.channel]}</span>
        <span className="reach-address">{what}</span>
        {/* One live element, so the change to Verified is announced. */}
        <span role="status" className={contact.verified ? 'ok' : 'reach-waiting'}>
          {contact.verified ? 'Verified ✓' : 'Waiting for the code'}
        </span>
        {contact.verified ? (
          <button type="button" disabled={test.isPending} onClick={() => test.mutate({ channel: contact.channel })} aria-label={`Send a test ${channelLabel[contact.channel]} to ${what}`}>
            {test.isPending ? 'Sending…' : 'Send test'}
          </button>
        ) : null}
        <button type="button" className="danger reach-remove" onClick={() => setConfirming(true)} aria-label={`Remove ${channelLabel[contact.channel]} ${what}`}>
          Remove
        </button>
      </div>
      {contact.verified && (test.data || test.isError) ? (
        <p role="status" className={test.isError || test.data?.failed.length ? 'error' : 'ok'}>
          {test.isError
            ? errorMessage(test.error)
            : test.data?.failed.length
              ? `Not sent: ${test.data.failed.map((f) => f.error).join('; ')}`
              : `Test sent (${test.data?.sent}): check that it arrived.`}
        </p>
      ) : null}
      {contact.verified ? null : (
        <form
          className="reach-verify"
          noValidate
          aria-label={`Verify ${what}`}
          onSubmit={(e) => {
            e.preventDefault();
            const v = validate(verifyContactInput, { contactId: contact.id, code });
            setErrors(v.errors ?? {});
            if (v.data) verify.mutate(v.data);
          }}
        >
          <Field
            label={`Code ${contact.channel === 'voice' ? 'from the call to' : 'sent to'} ${what}`}
            error={errors.code}
            hint={expired ? 'This code has expired: send a new one' : contact.codeExpiresAt ? `6 digits, works until ${clock(contact.codeExpiresAt)}` : '6 digits'}
            autoFocus={focusCode}
          >
            {(p) => (
              <input
                {...p}
                value={code}
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                onChange={(e) => {
                  setCode(e.target.value.replace(/\D/g, ''));
                  setErrors({});
                }}
              />
            )}
          </Field>
          <button type="submit" className="primary" disabled={verify.isPending}>
            Verify
          </button>
          <button type="button" disabled={resend.isPending} onClick={() => resend.mutate({ channel: contact.channel, address: contact.address } as AddContactInput)}>
            Send a new code
          </button>
        </form>
      )}
      {verify.isError && !Object.keys(errors).length ? <p role="alert">{errorMessage(verify.error)}</p> : null}
      {resend.isError ? <p role="alert">{errorMessage(resend.error)}</p> : null}
      {resend.isSuccess ? <p role="status">A new code is on its way</p> : null}
      {confirming ? (
        <ConfirmDialog title={`Remove ${what}?`} confirmLabel="Remove" busy={remove.isPending} error={remove.isError ? errorMessage(remove.error) : null} onConfirm={() => remove.mutate({ contactId: contact.id })} onClose={() => setConfirming(false)}>
          <p>Pages will no longer go there. Adding it again needs a new code.</p>
        </ConfirmDialog>
      ) : null}
    </li>
  );
}

/** Adds a phone, mailbox or webhook; the server sends it a code and the new contact asks for it. */
function AddContact({ onAdded }: { onAdded: (c: Contact) => void }) {
  const trpc = useTRPC();
  const refresh = useRefresh();
  const [channel, setChannel] = useState<Addable>('sms');
  const [address, setAddress] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const add = useMutation(
    trpc.notifications.addContact.mutationOptions({
      onSuccess: async (c) => {
        await refresh();
        setAddress('');
        onAdded(c);
      },
      onError: (err) => setErrors(serverFieldErrors(err)),
    }),
  );
  const input = addressInput[channel];
  return (
    <form
      className="reach-add"
      noValidate
      aria-labelledby="reach-add-title"
      onSubmit={(e) => {
        e.preventDefault();
        const v = validate(addContactInput, { channel, address });
        setErrors(v.errors ?? {});
        if (v.data) add.mutate(v.data);
      }}
    >
      <h3 id="reach-add-title">Add a contact</h3>
      <div className="reach-add-fields">
        <Field label="Channel">
          {(p) => (
            <select
              {...p}
              value={channel}
              onChange={(e) => {
                setChannel(e.target.value as Addable);
                setErrors({});
              }}
            >
              {ADDABLE.map((c) => (
                <option key={c} value={c}>
                  {channelLabel[c]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={input.label} hint={input.hint} error={errors.address}>
          {(p) => (
            <input
              {...p}
              type={input.type}
              inputMode={input.inputMode}
              autoComplete={input.autoComplete}
              placeholder={input.placeholder}
              value={address}
              onChange={(e) => {
                setAddress(e.target.value);
                setErrors({});
              }}
            />
          )}
        </Field>
      </div>
      {add.isError && !Object.keys(errors).length ? <p role="alert">{errorMessage(add.error)}</p> : null}
      <button type="submit" className="primary" disabled={add.isPending}>
        {add.isPending ? 'Sending the code…' : 'Add and send a code'}
      </button>
    </form>
  );
}

/** My phones, mailboxes, devices and gateways, and a form to add one. */
export function ReachContacts({ contacts, thisDevice }: { contacts: Contact[]; thisDevice: string | null }) {
  const [added, setAdded] = useState<Contact | null>(null);
  const waiting = contacts.find((c) => c.id === added?.id && !c.verified);
  return (
    <section className="card reach-contacts" aria-labelledby="reach-contacts-title">
      <h2 id="reach-contacts-title" className="card-title">
        Contacts
      </h2>
      {contacts.length ? (
        <ul aria-label="My contacts">
          {contacts.map((c) => (
            <ContactItem key={c.id} contact={c} focusCode={added?.id === c.id} thisDevice={thisDevice} />
          ))}
        </ul>
      ) : (
        <p className="empty">No contacts yet: Clarion can reach you on the screens only.</p>
      )}
      <p role="status" className="reach-sent">
        {waiting ? `A code was sent to ${waiting.address}: type it above.` : ''}
      </p>
      {added?.signingSecret ? (
        <p className="reach-secret">
          Signing secret for this webhook (shown once; each POST's <code>X-Clarion-Signature</code> is made with it): <code>{added.signingSecret}</code>
        </p>
      ) : null}
      <AddContact onAdded={setAdded} />
    </section>
  );
}
